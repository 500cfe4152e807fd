/* The shared SIMD body over the portable vocabulary at 4 lanes (NEON's
 * shapes: 8-row GEMM tiles, two 64-bit lanes, byte popcounts), built on every
 * machine, so the tests run it wherever they run.  Never chosen by dispatch;
 * EMBER_ISA=emu4 forces it for debugging. */
#define EMU_VL 4
#include "kernels/vec_emu.h"
#define KERN_OPS_NAME kern_ops_emu4
#define KERN_ISA_ID KERN_ISA_EMU4
#define KERN_ISA_STR "emu4"
#include "kernels/simd_body.h"
