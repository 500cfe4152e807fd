/* The CLI is a client of the public API: no file in tools/ includes a
 * header of the library's layers (index/, model/, kernels/, tokenizer/,
 * sys/), so every CLI test exercises include/ember.h and the CLI cannot do
 * what a library user cannot.  The exceptions, each for its reason:
 * the converter writes GGUF files, which the library only reads
 * (tools/convert*.c, convert_internal.h), and gen_model writes test
 * checkpoints with the library's f16/bf16 rounding.  Runs from the
 * repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const LAYERS[] = {"index/", "model/", "kernels/", "tokenizer/", "sys/"};

/* file -> the internal headers it may include */
static const struct { const char *file, *header; } ALLOWED[] = {
    {"convert_internal.h", "model/gguf.h"},
    {"convert_internal.h", "tokenizer/unigram.h"},
    {"convert_internal.h", "model/gguf_keys.h"},
    {"convert.c", "model/gguf_keys.h"},
    {"convert.c", "kernels/kernels.h"},
    {"convert_bert.c", "model/gguf_keys.h"},
    {"convert_jinabert.c", "model/gguf_keys.h"},
    {"convert_qwen3.c", "model/gguf_keys.h"},
    {"convert_tok_wordpiece.c", "model/gguf_keys.h"},
    {"convert_tok_wordpiece.c", "tokenizer/wordpiece.h"},
    {"convert_tok_bpe.c", "model/gguf_keys.h"},
    {"convert_tok_bpe.c", "tokenizer/bpe.h"},
    {"convert_tok_unigram.c", "model/gguf_keys.h"},
    {"convert_tok_unigram.c", "tokenizer/unigram.h"},
    {"convert_tok_unigram.c", "tokenizer/unicode.h"},
    {"gen_model.c", "kernels/kernels.h"},
};

static int allowed(const char *file, const char *header)
{
    for (size_t i = 0; i < sizeof ALLOWED / sizeof ALLOWED[0]; i++)
        if (!strcmp(ALLOWED[i].file, file) && !strcmp(ALLOWED[i].header, header)) return 1;
    return 0;
}

/* The first include of file's text (NUL-terminated) that reaches into a
 * library layer without an exception: 0, or its line number with the
 * header in why.  Paths are the repository's (run from its root). */
static int first_internal_include(const char *file, const char *text, char *why, size_t cap)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + len && (*q == ' ' || *q == '\t')) q++;
        if (q < p + len && *q == '#') {
            q++;
            while (q < p + len && (*q == ' ' || *q == '\t')) q++;
            if ((size_t)(p + len - q) > 7 && !strncmp(q, "include", 7)) {
                q += 7;
                while (q < p + len && (*q == ' ' || *q == '\t')) q++;
                if (q < p + len && (*q == '"' || *q == '<')) {
                    char close = *q == '"' ? '"' : '>';
                    const char *h = ++q;
                    while (q < p + len && *q != close) q++;
                    char header[512];
                    snprintf(header, sizeof header, "%.*s", (int)(q - h), h);
                    const char *name = header;
                    while (!strncmp(name, "../", 3) || !strncmp(name, "./", 2)) name += name[1] == '/' ? 2 : 3;
                    /* a layer's header is one that exists there: <sys/stat.h> is the system's */
                    for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++)
                        if (!strncmp(name, LAYERS[i], strlen(LAYERS[i])) && access(name, F_OK) == 0 && !allowed(file, name)) {
                            snprintf(why, cap, "%s", name);
                            return line;
                        }
                }
            }
        }
        p = e ? e + 1 : p + len;
    }
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

/* the check itself catches what it is for (else it could never fail) */
static void test_checker_catches_internal_includes(void **s)
{
    (void)s;
    char why[512];
    if (access("index/index.h", F_OK) != 0) { print_message("not at the repository root\n"); skip(); return; }
    assert_int_equal(first_internal_include("cmd_search.c", "#include \"ember.h\"\n#include \"index/index.h\"\n", why, sizeof why), 2);
    assert_string_equal(why, "index/index.h");
    assert_int_equal(first_internal_include("cmd_x.c", "  #  include <sys/sys.h>\n", why, sizeof why), 1);
    assert_int_equal(first_internal_include("cmd_x.c", "#include \"../model/model.h\"\n", why, sizeof why), 1);
    assert_int_equal(first_internal_include("cli_x.h", "/* x */\n#include \"tools/cli_common.h\"\n#include <stdio.h>\n#include <kernels/kernels.h>\n", why, sizeof why), 4);
    assert_int_equal(first_internal_include("cmd_x.c", "#include <sys/stat.h>\n#include \"ember.h\"\n#include \"tools/json.h\"\n", why, sizeof why), 0);
    /* an exception holds for its own file only */
    assert_int_equal(first_internal_include("convert_internal.h", "#include \"model/gguf.h\"\n", why, sizeof why), 0);
    assert_int_equal(first_internal_include("cmd_info.c", "#include \"model/gguf.h\"\n", why, sizeof why), 1);
}

static void test_tools_include_only_the_public_api(void **s)
{
    (void)s;
    DIR *d = opendir("tools");
    if (!d) { print_message("no tools/ here (tests run from the repository root)\n"); skip(); return; }
    int files = 0, bad = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 3 || (strcmp(de->d_name + n - 2, ".c") && strcmp(de->d_name + n - 2, ".h"))) continue;
        char path[1024], why[512];
        snprintf(path, sizeof path, "tools/%s", de->d_name);
        char *text = slurp(path);
        assert_non_null(text);
        int line = first_internal_include(de->d_name, text, why, sizeof why);
        if (line) {
            print_error("%s:%d includes %s: tools/ uses include/ember.h only (add to the API what the CLI needs)\n", path, line, why);
            bad++;
        }
        free(text);
        files++;
    }
    closedir(d);
    assert_true(files > 10);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_catches_internal_includes),
        cmocka_unit_test(test_tools_include_only_the_public_api),
    };
    return cmocka_run_group_tests_name("cli_api_only", tests, NULL, NULL);
}
