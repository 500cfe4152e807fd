/* libFuzzer harness: the input is a GGUF file.  ember_model_load, then a
 * context with default parameters, tokenize / embed / rerank a few texts. */
#include "tests/fuzz/model_texts.h"
#include "tests/fuzz/util.h"

#include "ember.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[4096];
    if (!path[0]) fuzz_tmp_path(path, sizeof path, "model.gguf");
    fuzz_write_file(path, data, size);
    char err[256];
    ember_model *m = ember_model_load(path, err, sizeof err);
    if (!m) return 0;
    fuzz_exercise_model(m);
    ember_model_free(m);
    return 0;
}
