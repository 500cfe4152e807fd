/* AVX-512 + VNNI + VPOPCNTDQ + BF16 kernels: the AVX-512 VNNI table once
 * more, built with BF16 as well, so that it also has gemm_bf16dot
 * (vdpbf16ps); every other operation is the VNNI table's code.  And the
 * amxbf16 table: this one with gemm_bf16dot on AMX from
 * KERN_BF16DOT_AMX_MIN_M rows (gemm_bf16dot_amx.c, which takes this
 * table's below). */
#if defined(__x86_64__)
#include "kernels/vec_avx512.h"
#undef KERN_OPS_NAME
#undef KERN_ISA_ID
#undef KERN_ISA_STR
#define KERN_OPS_NAME kern_ops_avx512bf16
#define KERN_ISA_ID KERN_ISA_AVX512BF16
#define KERN_ISA_STR "avx512bf16"
#include "kernels/simd_body.h"
BODY_TABLE(kern_ops_amxbf16, KERN_ISA_AMXBF16, "amxbf16", kern_gemm_bf16dot_amx);
#endif
