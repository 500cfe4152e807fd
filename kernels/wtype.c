/* What each weight type is: its name, its block (elements and bytes), and
 * the widening of its elements to f32 and narrowing from f32, one table
 * for every reader and writer of weights (the GGUF reader and writer,
 * model loading, embedding rows, info, the converter).  A new type (q8_0:
 * blocks of 32 int8 with an f16 scale) is a row here, its ggml id a row in
 * model/gguf_types.c, and its GEMM packing in the kernels. */
#include "kernels/kernels.h"

#include <string.h>

/* Elements are read and written with memcpy: a checkpoint's tensors (the
 * converter's input) need not be aligned. */
static void f32_to_f32(const void *src, float *dst, size_t n) { memcpy(dst, src, n * sizeof(float)); }
static void f32_from_f32(const float *src, void *dst, size_t n) { memcpy(dst, src, n * sizeof(float)); }

static void f16_to_f32(const void *src, float *dst, size_t n)
{
    const unsigned char *p = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = kern_f16_to_f32(h);
    }
}

static void f16_from_f32(const float *src, void *dst, size_t n)
{
    unsigned char *p = dst;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = kern_f32_to_f16(src[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

static void bf16_to_f32(const void *src, float *dst, size_t n)
{
    const unsigned char *p = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = kern_bf16_to_f32(h);
    }
}

static void bf16_from_f32(const float *src, void *dst, size_t n)
{
    unsigned char *p = dst;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = kern_f32_to_bf16(src[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

static const kern_wtype_traits TRAITS[KERN_W_COUNT] = {
    [KERN_W_F32] = { "f32", 1, 4, f32_to_f32, f32_from_f32 },
    [KERN_W_F16] = { "f16", 1, 2, f16_to_f32, f16_from_f32 },
    [KERN_W_BF16] = { "bf16", 1, 2, bf16_to_f32, bf16_from_f32 },
};

const kern_wtype_traits *kern_wtype_traits_of(kern_wtype wt)
{
    return (unsigned)wt < KERN_W_COUNT ? &TRAITS[wt] : NULL;
}

size_t kern_wtype_bytes(kern_wtype wt, size_t n)
{
    const kern_wtype_traits *t = &TRAITS[wt];
    return n / (size_t)t->block * (size_t)t->block_bytes;
}
