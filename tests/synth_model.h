/* Tiny random BERT models written straight to GGUF, for tests that must not
 * depend on the fixtures, and deliberately broken variants of them. */
#ifndef EMBER_TESTS_SYNTH_MODEL_H
#define EMBER_TESTS_SYNTH_MODEL_H
#include <stdint.h>

typedef struct {
    int hidden, layers, heads, ffn, ctx, rank; /* rank: cross-encoder head of that many labels (1) */
    uint32_t wtype;            /* GGML_TYPE_F32 / F16 / BF16 for matrices */
    const char *arch;          /* default "bert" */
    const char *drop_tensor;   /* leave this tensor out */
    const char *bad_shape;     /* give this tensor a wrong shape */
    int f16_norm;              /* store a LayerNorm weight as f16 (invalid) */
    uint32_t pooling;          /* default 1 (mean), 4 if rank */
    int bad_template;          /* template id beyond the vocabulary */
    int extra_vocab_tokens;    /* tokenizer has more tokens than token_embd rows */
    int type_rows;             /* rows of token_types.weight: default 2, -1 = no such tensor */
    const char *nan_tensor;    /* this tensor's first element is NaN */
    /* one integer key written with any GGUF integer type (replacing the
     * synthetic model's own value when it writes that key) */
    const char *int_key;
    uint32_t int_key_type;     /* GGUF_TYPE_UINT8 .. INT64 */
    int64_t int_key_val;       /* truncated to the type's width */
} synth_opts;

synth_opts synth_defaults(void);
/* 0 ok, -1 on write failure.  The vocabulary is ~120 tokens of lowercase
 * words and letters, [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4. */
int synth_bert_write(const char *path, const synth_opts *o);

/* Copies the GGUF file src to dst without the keys and tensors named in
 * drop (NULL-terminated): what another converter that lacks them would have
 * written.  Handles the value types ember's converter writes (u32, f32,
 * bool, string, numeric and string arrays).  0 ok, -1 on failure. */
int synth_gguf_copy(const char *src, const char *dst, const char *const *drop);
/* The same, with tensors added after the kept ones (their data is copied
 * when the file is written; it must live until the call returns). */
typedef struct { const char *name; uint32_t type, n_dims; uint64_t ne[4]; const void *data; } synth_tensor;
int synth_gguf_copy_with(const char *src, const char *dst, const char *const *drop, const synth_tensor *add, int n_add);
#endif
