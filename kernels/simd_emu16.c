/* The shared SIMD body over the portable vocabulary at 16 lanes (AVX-512's
 * shapes: 12-row GEMM tiles, the quad and broadcast small-M GEMMs, the 16 x 16 transposes,
 * eight 64-bit lanes, the VPOPCNTDQ popcount), built on every machine, so
 * the tests run it wherever they run.  Never chosen by dispatch;
 * EMBER_ISA=emu16 forces it for debugging. */
#define EMU_VL 16
#include "kernels/vec_emu.h"
#define KERN_OPS_NAME kern_ops_emu16
#define KERN_ISA_ID KERN_ISA_EMU16
#define KERN_ISA_STR "emu16"
#include "kernels/simd_body.h"
