/* Read-only safetensors checkpoints (single file or sharded with
 * model.safetensors.index.json), mmapped.  The JSON header is validated
 * completely: known dtypes, shapes, offsets inside the data section,
 * sizes = product(shape) * dtype size, no overlapping tensors. */
#ifndef EMBER_TOOLS_SAFETENSORS_H
#define EMBER_TOOLS_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
       ST_U16, ST_U32, ST_U64, ST_F8_E4M3, ST_F8_E5M2, ST_DTYPE_COUNT };

#define ST_MAX_DIMS 8

typedef struct {
    char *name;
    int dtype;                 /* ST_* */
    int n_dims;                /* 0 = scalar */
    uint64_t shape[ST_MAX_DIMS]; /* torch order: shape[n_dims-1] is the fastest */
    uint64_t numel;
    const void *data;          /* into the mapping; may be unaligned */
    uint64_t nbytes;
} st_tensor;

typedef struct safetensors safetensors;

/* Opens <dir>/model.safetensors, or the shards listed by
 * <dir>/model.safetensors.index.json when that exists. */
safetensors *st_open_dir(const char *dir, char *err, size_t errlen);
/* Opens one .safetensors file. */
safetensors *st_open_file(const char *path, char *err, size_t errlen);
void st_close(safetensors *st);

size_t st_n_tensors(const safetensors *st);
const st_tensor *st_tensor_at(const safetensors *st, size_t i);
const st_tensor *st_find(const safetensors *st, const char *name);
const char *st_dtype_name(int dtype);
#endif
