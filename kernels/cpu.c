/* CPU feature detection.  __builtin_cpu_supports checks both the CPUID bits
 * and that the OS saves the wider registers (XGETBV), as libgcc/compiler-rt
 * implement it. */
#include "kernels/kernels.h"

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
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case KERN_ISA_NEON:
        return 1; /* part of ARMv8-A */
#endif
    default:
        return 0;
    }
}
