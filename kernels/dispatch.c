/* The one-time dispatch table: best ISA for this CPU, or EMBER_ISA's choice. */
#include "kernels/kernels_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* written once under pthread_once: the table, the default one when
 * EMBER_ISA does not name one (per_operation), and why EMBER_ISA was not
 * honoured ("" when it was, or when unset) for the caller to show */
static const kern_ops *chosen;
static kern_ops best_per_operation;
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
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case KERN_ISA_NEON: return &kern_ops_neon;
#endif
    default: return NULL;
    }
}

const char *kern_isa_name(kern_isa isa)
{
    static const char *names[KERN_ISA_COUNT] = {"scalar", "avx2", "avx512", "avx512vnni", "neon", "emu4", "emu8", "emu16"};
    return (int)isa >= 0 && isa < KERN_ISA_COUNT ? names[isa] : "?";
}

/* The default table: the best ISA's, operation by operation.  Where a
 * narrower table's variant of an operation measured faster on the CPUs
 * these tables were timed on, the default takes that variant, each choice
 * below with its reason (the figures: bench/RESULTS.md, "Kernel tables per
 * operation").  Every other operation of the best table measured at least
 * as fast as the narrower ones (GEMM of 1 to 4096 rows, attention from 8
 * keys, LayerNorm, GELU, the f32 and int8-by-f32 distances, Hamming panels;
 * attention of fewer keys about even).  EMBER_ISA=<isa> gives that ISA's
 * table unmixed, and the tests run every table's variants. */
static const kern_ops *per_operation(const kern_ops *best)
{
    best_per_operation = *best;
#if defined(__x86_64__)
    /* int8 dot: on Zen 5 the AVX-512BW form (bytes widened to 16 bits,
     * pairs multiplied and added) beat VNNI's dpbusd at every length timed,
     * 64 to 1024 bytes, where the dpbusd form ran behind even AVX2 on
     * 64-byte codes.  Not timed on Intel's VNNI CPUs. */
    if (best->isa == KERN_ISA_AVX512VNNI) best_per_operation.dot_i8 = kern_ops_avx512.dot_i8;
#endif
    return &best_per_operation;
}

static void choose(void)
{
    const char *want = getenv("EMBER_ISA");
    /* the best real ISA: the emulated tables only when asked for by name */
    const kern_ops *best = NULL;
    for (int i = KERN_ISA_FIRST_EMU - 1; i >= 0 && !best; i--) best = kern_ops_for((kern_isa)i);
    chosen = per_operation(best);
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
