/* libFuzzer harness: the input is an `ember embed/rerank -i` input file, read
 * by cli_inputs_read as JSONL and as lines.  Every record read must have its
 * text (and pair) of the stated length; nothing may leak. */
#include "tests/fuzz/util.h"

#include "tools/cli_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cli_inputs *in, cli_input_format fmt, size_t size)
{
    size_t bytes = 0;
    for (int i = 0; i < in->n; i++) {
        FUZZ_CHECK(in->text[i] != NULL, "record %d has no text", i);
        FUZZ_CHECK(in->text[i][in->text_len[i]] == '\0', "record %d's text is not terminated at its length", i);
        bytes += in->text_len[i];
        if (in->pair[i]) {
            FUZZ_CHECK(fmt == CLI_IN_JSONL, "a line has a pair");
            FUZZ_CHECK(in->pair[i][in->pair_len[i]] == '\0', "record %d's pair is not terminated at its length", i);
            bytes += in->pair_len[i];
        }
        if (fmt == CLI_IN_LINES) FUZZ_CHECK(in->id[i] == i, "line %d has id %lld", i, (long long)in->id[i]);
    }
    /* a JSON string decodes to at most as many bytes as it takes in the file */
    FUZZ_CHECK(bytes <= size, "%zu bytes of text from a %zu-byte file", bytes, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[4096];
    if (!path[0]) fuzz_tmp_path(path, sizeof path, "inputs.jsonl");
    fuzz_write_file(path, data, size);
    const cli_input_format fmts[2] = { CLI_IN_JSONL, CLI_IN_LINES };
    for (int f = 0; f < 2; f++) {
        cli_inputs in;
        if (cli_inputs_read(path, fmts[f], &in) != 0) continue;
        check(&in, fmts[f], size);
        cli_inputs_free(&in);
    }
    return 0;
}
