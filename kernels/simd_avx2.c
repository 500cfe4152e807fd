/* AVX2 + FMA kernels: the shared SIMD body over 256-bit vectors. */
#if defined(__x86_64__)
#include "kernels/vec_avx2.h"
#include "kernels/simd_body.h"
#endif
