/* GGUF interoperability: a vocabulary file written by llama.cpp's own
 * converter (fixtures/peer-suites/llama.cpp) must load in ember and tokenize
 * llama.cpp's own test inputs exactly as its expected outputs say. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"
#include "tests/fixtures.h"

static void test_llamacpp_bert_vocab(void **state)
{
    (void)state;
    char gguf[1024], inp[1024], out[1024];
    if (!fixture_path(gguf, sizeof gguf, "peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf")) { skip(); return; }
    fixture_path(inp, sizeof inp, "peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf.inp");
    fixture_path(out, sizeof out, "peer-suites/llama.cpp/ggml-vocab-bert-bge.gguf.out");

    char err[512];
    ember_model *m = ember_model_load(gguf, err, sizeof err);
    if (!m) fail_msg("llama.cpp vocab GGUF did not load: %s", err);
    ember_model_info info;
    ember_model_get_info(m, &info);
    assert_int_equal(info.kind, EMBER_KIND_TOKENIZER);
    assert_int_equal(info.vocab_size, 30522);
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    assert_non_null(c);

    size_t ilen, olen;
    char *in = test_slurp(inp, &ilen), *ex = test_slurp(out, &olen);
    assert_non_null(in);
    assert_non_null(ex);
    const char *sep = "\n__ggml_vocab_test__\n";
    char *p = in, *q = ex;
    int n_cases = 0, n_bad = 0;
    int32_t ids[4096];
    while (*p) {
        char *end = strstr(p, sep);
        if (!end) break;
        char *eol = strchr(q, '\n');
        assert_non_null(eol);
        *eol = '\0';
        int n = 0;
        ember_status st = ember_tokenize(c, p, (size_t)(end - p), NULL, 0, 0, 0, ids, NULL, 4096, &n);
        assert_int_equal(st, EMBER_OK);
        char got[16384] = "";
        size_t gl = 0;
        for (int i = 0; i < n && gl + 16 < sizeof got; i++) gl += (size_t)snprintf(got + gl, sizeof got - gl, " %d", ids[i]);
        if (strcmp(got, q) != 0) {
            n_bad++;
            print_error("case %d: input '%.*s'\n  expected:%s\n  got:     %s\n", n_cases, (int)(end - p), p, q, got);
        }
        n_cases++;
        p = end + strlen(sep);
        q = eol + 1;
    }
    assert_int_equal(n_cases, 46);
    assert_int_equal(n_bad, 0);
    free(in);
    free(ex);
    ember_ctx_free(c);
    ember_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llamacpp_bert_vocab),
    };
    return cmocka_run_group_tests_name("vocab_llamacpp", tests, NULL, NULL);
}
