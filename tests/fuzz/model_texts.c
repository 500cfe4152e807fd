#include "tests/fuzz/model_texts.h"
#include "tests/fuzz/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const TEXTS[] = {
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Paris, France? caf\xc3\xa9 na\xc3\xafve \xe6\x9d\xb1\xe4\xba\xac [CLS] [SEP]",
    "",
    "supercalifragilisticexpialidocious-and-then-some-more-characters-after-it",
};
enum { N_TEXTS = sizeof TEXTS / sizeof TEXTS[0], CAP = 1024 };

static void tokenize_all(ember_ctx *c, const ember_model_info *info)
{
    static int32_t ids[CAP], types[CAP];
    for (int i = 0; i < N_TEXTS; i++)
        for (int variant = 0; variant < 4; variant++) {
            const char *pair = variant & 1 ? TEXTS[(i + 1) % N_TEXTS] : NULL;
            int max_length = variant & 2 ? 7 : 0, n = -1;
            ember_status s = ember_tokenize(c, TEXTS[i], strlen(TEXTS[i]), pair, pair ? strlen(pair) : 0,
                                            variant != 0, max_length, ids, types, CAP, &n);
            if (s != EMBER_OK) continue;
            FUZZ_CHECK(n >= 0 && n <= CAP, "tokenize: %d ids for a buffer of %d", n, CAP);
            FUZZ_CHECK(!max_length || n <= max_length, "tokenize: %d ids, truncated to %d", n, max_length);
            for (int k = 0; k < n; k++) {
                FUZZ_CHECK(ids[k] >= 0 && ids[k] < info->vocab_size, "tokenize: id %d outside the vocabulary (%d)", ids[k], info->vocab_size);
                /* a template may give any type id in [0, 255]; embed maps those beyond the model's to 0 */
                FUZZ_CHECK(types[k] >= 0 && types[k] <= 255, "tokenize: type id %d", types[k]);
            }
        }
}

void fuzz_exercise_model(const ember_model *m)
{
    ember_model_info info;
    ember_model_get_info(m, &info);
    char err[256];
    ember_ctx *c = ember_ctx_create(m, NULL, err, sizeof err);
    if (!c) return;
    tokenize_all(c, &info);
    if (info.kind == EMBER_KIND_EMBEDDER) {
        FUZZ_CHECK(info.dim >= 1, "embedder of dimension %d", info.dim);
        float *out = malloc((size_t)N_TEXTS * (size_t)info.dim * sizeof(float));
        FUZZ_CHECK(out != NULL, "out of memory for %d x %d floats", N_TEXTS, info.dim);
        ember_embed(c, TEXTS, NULL, N_TEXTS, 0, out);
        ember_embed(c, TEXTS, NULL, 2, EMBER_EMBED_NO_NORMALIZE, out);
        free(out);
    } else if (info.kind == EMBER_KIND_RERANKER) {
        float logits[N_TEXTS];
        ember_rerank(c, TEXTS[0], strlen(TEXTS[0]), TEXTS, NULL, N_TEXTS, logits);
    }
    ember_ctx_free(c);
}
