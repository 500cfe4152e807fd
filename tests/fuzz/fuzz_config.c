/* libFuzzer harness: the input is config.json of a HuggingFace folder whose
 * other files (tokenizer, sentence-transformers modules, safetensors weights)
 * are a small valid checkpoint.  The whole conversion runs; a GGUF it writes
 * must load, and is used to tokenize and embed. */
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
    /* the input's length picks the weight type, so both conversion paths run */
    fuzz_convert_with("config.json", data, size, size & 1 ? CONVERT_F16 : CONVERT_F32, 0);
    return 0;
}
