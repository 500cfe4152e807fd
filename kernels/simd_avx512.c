/* AVX-512 kernels: the shared SIMD body over 512-bit vectors. */
#if defined(__x86_64__)
#include "kernels/vec_avx512.h"
#include "kernels/simd_body.h"
#endif
