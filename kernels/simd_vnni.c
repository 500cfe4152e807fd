/* AVX-512 + VNNI + VPOPCNTDQ kernels: the shared SIMD body once more, built
 * with those extensions (hardware 64-bit popcount in the Hamming panel). */
#if defined(__x86_64__)
#include "kernels/vec_avx512.h"
#undef KERN_OPS_NAME
#undef KERN_ISA_ID
#undef KERN_ISA_STR
#define KERN_OPS_NAME kern_ops_avx512vnni
#define KERN_ISA_ID KERN_ISA_AVX512VNNI
#define KERN_ISA_STR "avx512vnni"
#include "kernels/simd_body.h"
#endif
