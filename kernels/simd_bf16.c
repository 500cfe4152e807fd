/* AVX-512 + VNNI + VPOPCNTDQ + BF16 kernels: the AVX-512 VNNI table once
 * more, built with BF16 as well, so that it also has gemm_bf16dot
 * (vdpbf16ps); every other operation is the VNNI table's code. */
#if defined(__x86_64__)
#include "kernels/vec_avx512.h"
#undef KERN_OPS_NAME
#undef KERN_ISA_ID
#undef KERN_ISA_STR
#define KERN_OPS_NAME kern_ops_avx512bf16
#define KERN_ISA_ID KERN_ISA_AVX512BF16
#define KERN_ISA_STR "avx512bf16"
#include "kernels/simd_body.h"
#endif
