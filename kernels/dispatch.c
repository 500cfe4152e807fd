/* The one-time dispatch table: best ISA for this CPU, or EMBER_ISA's choice. */
#include "kernels/kernels_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* written once under pthread_once: the table, and why EMBER_ISA was not
 * honoured ("" when it was, or when unset) for the caller to show */
static const kern_ops *chosen;
static char note[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

const kern_ops *kern_ops_for(kern_isa isa)
{
    if (!kern_cpu_has(isa)) return NULL;
    switch (isa) {
    case KERN_ISA_SCALAR: return &kern_ops_scalar;
    case KERN_ISA_EMU4: return &kern_ops_emu4;
    case KERN_ISA_EMU8: return &kern_ops_emu8;
    case KERN_ISA_EMU16: return &kern_ops_emu16;
#if defined(__x86_64__)
    case KERN_ISA_AVX2: return &kern_ops_avx2;
    case KERN_ISA_AVX512: return &kern_ops_avx512;
    case KERN_ISA_AVX512VNNI: return &kern_ops_avx512vnni;
    case KERN_ISA_AVX512BF16: return &kern_ops_avx512bf16;
    case KERN_ISA_AMXBF16: return &kern_ops_amxbf16;
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case KERN_ISA_NEON: return &kern_ops_neon;
#endif
    default: return NULL;
    }
}

const char *kern_isa_name(kern_isa isa)
{
    static const char *names[KERN_ISA_COUNT] = {"scalar", "avx2", "avx512", "avx512vnni", "avx512bf16", "neon",
                                                 "amxbf16", "emu4", "emu8", "emu16"};
    return (int)isa >= 0 && isa < KERN_ISA_COUNT ? names[isa] : "?";
}

/* The default is the best ISA's table whole, as timed operation by
 * operation: every operation of the AVX-512 tables measured at least as
 * fast as AVX2's on an AVX-512 CPU (Zen 5; bench/RESULTS.md, "Kernel tables
 * per operation", bench/bench_kernels.c): GEMM of every row count,
 * attention from 8 keys (fewer: about even), LayerNorm, GELU, the
 * distances and Hamming panels.  The one close call, the int8 dot of the
 * VNNI table against the AVX-512BW one: faster on 64-byte aligned rows (an
 * index file's), even to somewhat slower on rows 16 bytes off (malloc's,
 * an index built in memory) from run to run, and no difference measured
 * in an HNSW int8 walk: VNNI's kept.  Were a narrower table's variant of an
 * operation faster, the default would take it here, by name and with the
 * reason, and EMBER_ISA=<isa> would still give that table unmixed.  The
 * avx512bf16 table is the avx512vnni one's code built with BF16 as well:
 * the same operations, the same bits, and gemm_bf16dot besides (used only
 * when a context asks for it), so it is the best where the CPU has it;
 * and the amxbf16 table is that one again with gemm_bf16dot on AMX from
 * KERN_BF16DOT_AMX_MIN_M rows, so it is the best where AMX is usable
 * (kern_cpu_has asks Linux for the tile data state the first time it
 * is called, here at the latest). */
static void choose(void)
{
    const char *want = getenv("EMBER_ISA");
    /* the best real ISA: the emulated tables only when asked for by name */
    for (int i = KERN_ISA_FIRST_EMU - 1; i >= 0 && !chosen; i--) chosen = kern_ops_for((kern_isa)i);
    if (!want || !*want) return;
    for (int i = 0; i < KERN_ISA_COUNT; i++)
        if (strcmp(want, kern_isa_name((kern_isa)i)) == 0) {
            const kern_ops *k = kern_ops_for((kern_isa)i);
            if (k) chosen = k;
            else snprintf(note, sizeof note, "EMBER_ISA=%.64s is not supported on this CPU; using %s", want, chosen->name);
            return;
        }
    size_t n = (size_t)snprintf(note, sizeof note, "unknown EMBER_ISA=%.64s (", want);
    for (int i = 0; i < KERN_ISA_COUNT && n < sizeof note; i++)
        n += (size_t)snprintf(note + n, sizeof note - n, "%s%s", i ? ", " : "", kern_isa_name((kern_isa)i));
    if (n < sizeof note) snprintf(note + n, sizeof note - n, "); using %s", chosen->name);
}

const kern_ops *kern_ops_get(void)
{
    pthread_once(&once, choose);
    return chosen;
}

const char *kern_dispatch_note(void)
{
    pthread_once(&once, choose);
    return note[0] ? note : NULL;
}

size_t kern_gemm_scratch_floats(int n_threads)
{
    if (n_threads < 1) n_threads = 1;
    /* per thread: the packed W block and one packed A micro-panel (<= 16 rows);
     * the broadcast small-M path keeps X^T and widened W rows in the same room */
    return (size_t)n_threads * ((size_t)KERN_GEMM_KC * KERN_GEMM_NC + (size_t)KERN_GEMM_KC * 16 + 64);
}

size_t kern_attention_scratch_floats(int L, int d)
{
    if (L < 1) L = 1;
    /* six rows of scores, then K in panels and V packed, keys padded to a
     * multiple of 32; heads wider than KERN_ATTN_MAXD take the reference
     * path, which needs one row of scores */
    size_t Lp = ((size_t)L + 31) / 32 * 32, dd = d >= 1 && d <= KERN_ATTN_MAXD ? (size_t)d : 0;
    return 6 * Lp + 2 * Lp * dd + 64;
}
