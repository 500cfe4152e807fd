/* The GEMM's register blocking per vector width, written once: the real
 * vocabularies (vec_neon.h, vec_avx2.h, vec_avx512.h) and the emulated ones
 * of the same width (vec_emu.h) include it after defining VL, so the tests'
 * emu4 / emu8 / emu16 tables always run the shapes NEON, AVX2 and AVX-512
 * run.  The counts assume the register file of the real ISA of each width. */
#if VL == 4
/* NEON, 32 registers: 8 rows x 2 vectors (16 accumulators + 2 W + 1
 * broadcast); small-M blocks of 4 x 4 (16 accumulators + 4 W + 1 A) */
#define GEMM_MR 8
#define GEMM_SB_N 4
#elif VL == 8
/* AVX2, 16 ymm: 6-row tiles; small-M blocks of 4 x 3 (12 accumulators + 3 W
 * + 1 A); 9..256 rows W broadcast against X^T (simd_body.h), tiles of 6
 * columns over blocks of 2 vectors of rows (12 accumulators + 2 X + 1 W), or
 * of 4 columns over blocks of 3 and 2 */
#define GEMM_MR 6
#define GEMM_SB_N 3
#define GEMM_BCAST_MIN_M 9
#define GEMM_BCAST_TF2 6
#define GEMM_BCAST_TF3 4
#elif VL == 16
/* AVX-512, 32 zmm: 12-row tiles; up to 4 rows the dot products; 5..24 rows
 * the quad tiles (4 rows by 4 k a vector), 12 columns over 2 groups of 4
 * rows, 8 over 3, 6 over 4, 5 over 5, 4 over 6 (24 to 25 accumulators + the
 * groups' X + 1 W); 25..256 rows W broadcast against X^T, tiles of 12
 * columns over blocks of 2 vectors of rows (24 accumulators + 2 X + 1 W), of
 * 8 over blocks of 3 and 2 */
#define GEMM_MR 12
#define GEMM_QUAD_MIN_M 5
#define GEMM_QUAD_TF2 12
#define GEMM_QUAD_TF3 8
#define GEMM_QUAD_TF4 6
#define GEMM_QUAD_TF5 5
#define GEMM_QUAD_TF6 4
#define GEMM_BCAST_MIN_M 25
#define GEMM_BCAST_TF2 12
#define GEMM_BCAST_TF3 8
#else
#error "no GEMM blocking for this vector width"
#endif
