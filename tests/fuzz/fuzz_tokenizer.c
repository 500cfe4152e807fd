/* libFuzzer harness: the input is tokenizer.json of a small valid HuggingFace
 * folder.  A vocabulary-only conversion runs (the tokenizer's whole path:
 * vocabulary, normalizer, pre-tokenizer, post-processor template); a GGUF it
 * writes must load, and is used to tokenize. */
#include "tests/fuzz/hf_base.h"

#include "tools/convert.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    fuzz_hf_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_convert_with("tokenizer.json", data, size, CONVERT_F32, 1);
    return 0;
}
