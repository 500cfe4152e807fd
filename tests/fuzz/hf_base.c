#include "tests/fuzz/hf_base.h"
#include "tests/fuzz/model_texts.h"
#include "tests/fuzz/util.h"

#include "ember.h"
#include "tools/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *fuzz_hf_dir(void)
{
    static char dir[4096];
    if (dir[0]) return dir;
    const char *base = getenv("EMBER_FUZZ_HF");
    if (!base || !*base) base = "build-fuzz/seeds/hf-embed";
    struct stat sb;
    if (stat(base, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("fuzz: no base HuggingFace folder at %s (make fuzz generates it; or set EMBER_FUZZ_HF)\n", base);
        fflush(stdout);
        abort();
    }
    fuzz_tmp_path(dir, sizeof dir, "hf");
    fuzz_copy_tree(base, dir);
    return dir;
}

void fuzz_convert_with(const char *name, const uint8_t *data, size_t size, int dtype, int vocab_only)
{
    static char out[4096];
    if (!out[0]) fuzz_tmp_path(out, sizeof out, "out.gguf");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fuzz_hf_dir(), name);
    fuzz_write_file(path, data, size);
    convert_options opt = { .hf_dir = fuzz_hf_dir(), .out_path = out, .dtype = dtype, .vocab_only = vocab_only };
    convert_summary sum;
    char err[1024];
    if (convert_hf_to_gguf(&opt, &sum, err, sizeof err) != 0) return;
    ember_model *m = ember_model_load(out, err, sizeof err);
    FUZZ_CHECK(m != NULL, "the converter wrote a GGUF the loader refuses: %s", err);
    fuzz_exercise_model(m);
    ember_model_free(m);
}
