/* CPU feature detection.  __builtin_cpu_supports checks both the CPUID bits
 * and that the OS saves the wider registers (XGETBV), as libgcc/compiler-rt
 * implement it. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* AMX with bf16: the CPU has AMX-TILE and AMX-BF16 (CPUID leaf 7, EDX bits
 * 24 and 22), the OS saves the tile state (XCR0 bits 17, TILECFG, and 18,
 * TILEDATA, read by XGETBV once OSXSAVE says it may be), and Linux lets this
 * process use the tile data: a process must ask for it (arch_prctl
 * ARCH_REQ_XCOMP_PERM) or its first tile instruction is killed by SIGILL.
 * The permission is the process's, for every thread, once granted; it is
 * asked for only when ARCH_GET_XCOMP_PERM says it is not held yet, so the
 * first call (the dispatch's) asks and the later ones only look.  No
 * other OS is known to need or grant it here: elsewhere AMX is not used. */
static int amx_bf16_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & (3u << 17)) != (3u << 17)) return 0;
#if defined(__linux__) && defined(SYS_arch_prctl)
    enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    unsigned long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0 && (perm & (1ul << XFEATURE_XTILEDATA))) return 1;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}
#endif

int kern_cpu_has(kern_isa isa)
{
    switch (isa) {
    case KERN_ISA_SCALAR:
    case KERN_ISA_EMU4: /* portable C */
    case KERN_ISA_EMU8:
    case KERN_ISA_EMU16:
        return 1;
#if defined(__x86_64__)
    case KERN_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KERN_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
    case KERN_ISA_AVX512VNNI:
        return kern_cpu_has(KERN_ISA_AVX512) && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx512vpopcntdq");
    case KERN_ISA_AVX512BF16:
        return kern_cpu_has(KERN_ISA_AVX512VNNI) && __builtin_cpu_supports("avx512bf16");
    case KERN_ISA_AMXBF16:
        return kern_cpu_has(KERN_ISA_AVX512BF16) && amx_bf16_usable();
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case KERN_ISA_NEON:
        return 1; /* part of ARMv8-A */
#endif
    default:
        return 0;
    }
}
