/* GGUF v2/v3 files: a validating mmap reader and a writer (llama.cpp's format;
 * see gguf-py's constants).  Reading never copies tensor data, and every
 * count, length, offset and shape is checked before it is used. */
#ifndef EMBER_MODEL_GGUF_H
#define EMBER_MODEL_GGUF_H

#include "kernels/kernels.h"

#include <stddef.h>
#include <stdint.h>

enum {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT
};
enum { GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_BF16 = 30 };

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32

typedef struct gguf_file gguf_file;

typedef struct {
    const char *name;     /* NUL-terminated copy */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the fastest-varying dimension */
    uint32_t type;        /* GGML_TYPE_* */
    const void *data;     /* into the mapping */
    uint64_t nbytes;
} gguf_tensor;

gguf_file *gguf_open(const char *path, char *err, size_t errlen);
void gguf_close(gguf_file *f);
uint64_t gguf_file_size(const gguf_file *f);
uint32_t gguf_version(const gguf_file *f);

/* Key-value getters: 0 ok, -1 missing, -2 wrong type (or value out of range). */
/* Any integer type, widened to 64 bits without loss; -2 also when negative.
 * Callers range-check this before narrowing it to anything smaller. */
int gguf_get_uint(const gguf_file *f, const char *key, uint64_t *v);
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *v); /* any integer type that fits */
int gguf_get_f32(const gguf_file *f, const char *key, float *v);    /* f32 or f64 */
int gguf_get_f64(const gguf_file *f, const char *key, double *v);   /* f64 or f32, exactly */
int gguf_get_bool(const gguf_file *f, const char *key, int *v);
int gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len); /* not NUL-terminated */
/* Numeric arrays: data points into the mapping and may be unaligned (memcpy). */
int gguf_get_arr(const gguf_file *f, const char *key, uint32_t *elem_type, uint64_t *n, const void **data);
/* String arrays: returns a key index >= 0 for gguf_str_arr_at, or -1 / -2. */
int gguf_get_str_arr(const gguf_file *f, const char *key, uint64_t *n);
int gguf_str_arr_at(const gguf_file *f, int key_index, uint64_t i, const char **s, size_t *len);

/* Key iteration (ember_model_meta_at, for `ember info --keys`). */
int gguf_n_kv(const gguf_file *f);
const char *gguf_kv_name(const gguf_file *f, int i);
uint32_t gguf_kv_type(const gguf_file *f, int i);        /* GGUF_TYPE_* */
uint32_t gguf_kv_arr_type(const gguf_file *f, int i);    /* element type, for arrays */
uint64_t gguf_kv_arr_len(const gguf_file *f, int i);
/* Key i's value in the mapping (little-endian, maybe unaligned: memcpy it):
 * a scalar's bytes, a string's u64 length then its bytes, an array's
 * elements (numeric arrays; string arrays through gguf_str_arr_at). */
const void *gguf_kv_data(const gguf_file *f, int i);

const gguf_tensor *gguf_tensor_find(const gguf_file *f, const char *name);
uint64_t gguf_n_tensors(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i);

/* ---- tensor types (gguf_types.c): ggml's id of each kern_wtype ---- */
/* The weight type of ggml type id t (*wt, when wt != NULL) and its traits,
 * or NULL for a type ember does not read. */
const kern_wtype_traits *gguf_wtype(uint32_t ggml_type, kern_wtype *wt);
uint32_t gguf_ggml_type(kern_wtype wt);
/* "f32", ...; "unsupported" for a type ember does not read. */
const char *gguf_type_name(uint32_t ggml_type);
/* "f32, f16, bf16": the types ember reads, for messages. */
void gguf_wtype_names(char *out, size_t cap);

/* ---- writer ---- */
typedef struct gguf_writer gguf_writer;
gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
/* Setters copy keys and values; they fail (-1) only on allocation failure
 * or a duplicate key. */
int gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_writer_set_f32(gguf_writer *w, const char *key, float v);
int gguf_writer_set_bool(gguf_writer *w, const char *key, int v);
int gguf_writer_set_str(gguf_writer *w, const char *key, const char *s, size_t len);
/* Any scalar type (GGUF_TYPE_UINT8 .. FLOAT64 except STRING/ARRAY); v points
 * at a value of that type's size. */
int gguf_writer_set_val(gguf_writer *w, const char *key, uint32_t type, const void *v);
int gguf_writer_set_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *data, uint64_t n);
int gguf_writer_set_str_arr(gguf_writer *w, const char *key, const char *const *s, const size_t *lens, uint64_t n);
/* Adds a tensor; data is copied into the writer when own != 0, else it must
 * stay valid until gguf_writer_write. */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t ggml_type, uint32_t n_dims,
                           const uint64_t *ne, const void *data, int own);
/* Writes a new temporary beside path (sys/sys.h), fsyncs, renames it to path. */
int gguf_writer_write(gguf_writer *w, const char *path, char *err, size_t errlen);
/* For tests of the reader: the file image in memory (malloc'd). */
int gguf_writer_to_buffer(gguf_writer *w, unsigned char **buf, size_t *len, char *err, size_t errlen);
#endif
