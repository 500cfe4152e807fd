/* libFuzzer harness: the input is a .safetensors file.  st_open_file, then
 * every tensor is looked up by name and each of its bytes read: a tensor
 * whose range escaped the file would fault here. */
#include "tests/fuzz/util.h"

#include "tools/safetensors.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned DTYPE_SIZE[ST_DTYPE_COUNT] = {
    [ST_F32] = 4, [ST_F16] = 2, [ST_BF16] = 2, [ST_F64] = 8, [ST_I64] = 8, [ST_I32] = 4, [ST_I16] = 2, [ST_I8] = 1,
    [ST_U8] = 1, [ST_BOOL] = 1, [ST_U16] = 2, [ST_U32] = 4, [ST_U64] = 8, [ST_F8_E4M3] = 1, [ST_F8_E5M2] = 1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[4096];
    if (!path[0]) fuzz_tmp_path(path, sizeof path, "model.safetensors");
    fuzz_write_file(path, data, size);
    char err[512];
    safetensors *st = st_open_file(path, err, sizeof err);
    if (!st) return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < st_n_tensors(st); i++) {
        const st_tensor *t = st_tensor_at(st, i);
        FUZZ_CHECK(t && t->name && t->dtype >= 0 && t->dtype < ST_DTYPE_COUNT, "tensor %zu is malformed", i);
        FUZZ_CHECK(st_find(st, t->name) == t, "tensor %s is not found by its name", t->name);
        FUZZ_CHECK(t->n_dims >= 0 && t->n_dims <= ST_MAX_DIMS, "tensor %s has %d dimensions", t->name, t->n_dims);
        uint64_t numel = 1;
        for (int d = 0; d < t->n_dims; d++) numel *= t->shape[d];
        FUZZ_CHECK(numel == t->numel && t->nbytes == numel * DTYPE_SIZE[t->dtype],
                   "tensor %s: %llu bytes for %llu elements of %s", t->name, (unsigned long long)t->nbytes,
                   (unsigned long long)t->numel, st_dtype_name(t->dtype));
        total += t->nbytes;
        FUZZ_CHECK(total <= size, "tensors hold %llu bytes, more than the %zu-byte file", (unsigned long long)total, size);
        volatile unsigned char sum = 0;
        const unsigned char *p = t->data;
        for (uint64_t j = 0; j < t->nbytes; j++) sum = (unsigned char)(sum + p[j]);
        (void)sum;
        (void)strlen(st_dtype_name(t->dtype));
    }
    st_close(st);
    return 0;
}
