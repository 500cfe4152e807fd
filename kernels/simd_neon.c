/* AArch64 NEON kernels: the shared SIMD body over 128-bit vectors. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "kernels/vec_neon.h"
#include "kernels/simd_body.h"
#endif
