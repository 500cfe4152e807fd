/* The converter harnesses convert a HuggingFace folder in which one file is
 * the fuzz input and the rest come from a small generated checkpoint. */
#ifndef EMBER_TESTS_FUZZ_HF_BASE_H
#define EMBER_TESTS_FUZZ_HF_BASE_H
#include <stddef.h>
#include <stdint.h>

/* Copies the base folder ($EMBER_FUZZ_HF, default build-fuzz/seeds/hf-embed,
 * written by tools/gen_model when make fuzz seeds the corpora) into the
 * scratch folder once; returns the copy's path. */
const char *fuzz_hf_dir(void);
/* Writes data as name in the copy, converts it (vocab_only as asked) and,
 * when the converter accepts it, checks the GGUF it wrote loads, then
 * tokenizes / embeds / reranks with it. */
void fuzz_convert_with(const char *name, const uint8_t *data, size_t size, int dtype, int vocab_only);
#endif
