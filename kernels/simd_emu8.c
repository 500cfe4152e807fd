/* The shared SIMD body over the portable vocabulary at 8 lanes (AVX2's
 * shapes: 6-row GEMM tiles, the broadcast GEMM and the 8 x 8 transposes, byte
 * popcounts), built on every machine, so the tests run it wherever they run.
 * Never chosen by dispatch; EMBER_ISA=emu8 forces it for debugging. */
#define EMU_VL 8
#include "kernels/vec_emu.h"
#define KERN_OPS_NAME kern_ops_emu8
#define KERN_ISA_ID KERN_ISA_EMU8
#define KERN_ISA_STR "emu8"
#include "kernels/simd_body.h"
