/* HF folder -> GGUF.  Reads config.json, the tokenizer (tokenizer.json, or
 * vocab.txt + tokenizer_config.json), the sentence-transformers modules and
 * the safetensors weights; checks every tensor's presence and shape against
 * the config; writes llama.cpp's bert layout.
 *
 * The one part of tools/ that reaches below include/ember.h (with its
 * readers json.c and safetensors.c, and cmd_convert.c over it): the library
 * reads models, and writing one takes the GGUF writer (model/gguf_write.c),
 * its key names, the f16/bf16 conversions of kernels/ and the WordPiece
 * vocabulary checks of tokenizer/.  The rest of the CLI uses the public API
 * only; tests/test_cli_api_only.c holds that line. */
#include "tools/convert.h"
#include "tools/json.h"
#include "tools/safetensors.h"
#include "model/gguf.h"
#include "model/gguf_keys.h"
#include "kernels/kernels.h"
#include "tokenizer/wordpiece.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ARCH_BERT, ARCH_BERT_CLS, ARCH_XLMR, ARCH_XLMR_CLS };
enum { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3, POOL_RANK = 4 };

typedef struct {
    const convert_options *opt;
    char *err;
    size_t errlen;
    int arch;
    char arch_name[64];
    json_value *config, *tok_json, *tok_cfg, *st_map;
    /* hyper-parameters */
    uint32_t hidden, ffn, layers, heads, max_pos, type_vocab, vocab, pad_id, ctx;
    double ln_eps;
    /* tokenizer */
    char **toks;          /* GGUF convention, NUL-terminated */
    size_t *tok_lens;
    char **hf_toks;       /* as in the HF files (for special-token lookup) */
    int32_t *tok_types;
    uint32_t n_tok;
    int lowercase, strip_accents, cjk, clean_text;
    uint32_t max_chars;
    int32_t unk, sep, pad, cls, mask;
    int32_t tpl_single[64], tpl_single_t[64], tpl_pair[64], tpl_pair_t[64];
    int n_single, n_pair;
    /* sentence-transformers */
    uint32_t pooling, max_seq;
    int normalize;
    /* weights */
    safetensors *st;
    void **bufs;
    size_t n_bufs;
} conv;

static int cfail(conv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->err && c->errlen) vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int file_exists(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Parses dir/name; *out stays NULL when the file is absent and optional. */
static int load_json(conv *c, const char *name, int required, json_value **out)
{
    char path[4096], msg[512];
    *out = NULL;
    if (!file_exists(c->opt->hf_dir, name, path, sizeof path)) {
        if (required) return cfail(c, "%s: missing (not a HuggingFace model folder?)", path);
        return 0;
    }
    *out = json_parse_file(path, msg, sizeof msg);
    if (!*out) return cfail(c, "%s", msg);
    return 0;
}

/* ---- config.json ---- */

static int cfg_u32(conv *c, const char *key, uint32_t lo, uint32_t hi, int required, uint32_t def, uint32_t *v)
{
    const json_value *j = json_object_get(c->config, key);
    if (!j || json_type_of(j) == JSON_NULL) {
        if (required) return cfail(c, "config.json: missing %s", key);
        *v = def;
        return 0;
    }
    double d = json_number(j);
    /* range first: casting a double beyond int64 (1e308) is undefined */
    if (json_type_of(j) != JSON_NUMBER || !(d >= lo && d <= hi) || d != (double)(int64_t)d)
        return cfail(c, "config.json: %s must be an integer in [%u, %u]", key, lo, hi);
    *v = (uint32_t)d;
    return 0;
}

static int read_config(conv *c)
{
    if (load_json(c, "config.json", 1, &c->config)) return -1;
    if (json_type_of(c->config) != JSON_OBJECT) return cfail(c, "config.json: not a JSON object");
    const json_value *archs = json_object_get(c->config, "architectures");
    const char *a = json_string(json_array_at(archs, 0), NULL);
    if (!a) return cfail(c, "config.json: no architectures[0]; cannot tell which model this is");
    static const struct { const char *name; int arch; } known[] = {
        {"BertModel", ARCH_BERT}, {"BertForSequenceClassification", ARCH_BERT_CLS},
        {"XLMRobertaModel", ARCH_XLMR}, {"XLMRobertaForSequenceClassification", ARCH_XLMR_CLS},
    };
    c->arch = -1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(a, known[i].name) == 0) c->arch = known[i].arch;
    snprintf(c->arch_name, sizeof c->arch_name, "%s", a);
    if (c->arch < 0) {
        if (strncmp(a, "Qwen", 4) == 0)
            return cfail(c, "config.json: architecture %s is not supported yet (ember converts BertModel, "
                            "BertForSequenceClassification, XLMRobertaModel, XLMRobertaForSequenceClassification)", a);
        return cfail(c, "config.json: unsupported architecture %s (ember converts BertModel, BertForSequenceClassification, "
                        "XLMRobertaModel, XLMRobertaForSequenceClassification)", a);
    }
    if (c->opt->vocab_only) return 0;
    if (cfg_u32(c, "hidden_size", 1, 65536, 1, 0, &c->hidden) ||
        cfg_u32(c, "intermediate_size", 1, 1u << 20, 1, 0, &c->ffn) ||
        cfg_u32(c, "num_hidden_layers", 1, 1024, 1, 0, &c->layers) ||
        cfg_u32(c, "num_attention_heads", 1, 65536, 1, 0, &c->heads) ||
        cfg_u32(c, "max_position_embeddings", 1, 1u << 24, 1, 0, &c->max_pos) ||
        cfg_u32(c, "type_vocab_size", 1, 1u << 16, 0, 2, &c->type_vocab) ||
        cfg_u32(c, "vocab_size", 1, 1u << 24, 1, 0, &c->vocab) ||
        cfg_u32(c, "pad_token_id", 0, 1u << 24, 0, c->arch >= ARCH_XLMR ? 1 : 0, &c->pad_id))
        return -1;
    if (c->hidden % c->heads) return cfail(c, "config.json: hidden_size %u is not a multiple of num_attention_heads %u", c->hidden, c->heads);
    const json_value *eps = json_object_get(c->config, "layer_norm_eps");
    c->ln_eps = eps ? json_number(eps) : 1e-12;
    /* the range the loader accepts, as the f32 the file will hold (1e-52 would be 0) */
    if (eps && (json_type_of(eps) != JSON_NUMBER || !(c->ln_eps > 0 && c->ln_eps < 1 && (float)c->ln_eps > 0.0f)))
        return cfail(c, "config.json: layer_norm_eps must be a number in (0, 1) that float32 can hold (got %g)", c->ln_eps);
    const char *act = json_string(json_object_get(c->config, "hidden_act"), NULL);
    if (act && strcmp(act, "gelu") != 0)
        return cfail(c, "config.json: hidden_act %s is not supported (ember implements exact \"gelu\")", act);
    const char *pet = json_string(json_object_get(c->config, "position_embedding_type"), NULL);
    if (pet && strcmp(pet, "absolute") != 0)
        return cfail(c, "config.json: position_embedding_type %s is not supported (only absolute)", pet);
    c->ctx = c->max_pos;
    if (c->arch >= ARCH_XLMR) {
        /* XLM-R positions start at pad_token_id + 1; those rows are dropped */
        if (c->pad_id + 1 >= c->max_pos)
            return cfail(c, "config.json: pad_token_id %u leaves no positions of max_position_embeddings %u", c->pad_id, c->max_pos);
        c->ctx = c->max_pos - (c->pad_id + 1);
    }
    return 0;
}

/* ---- tokenizer ---- */

static int32_t tok_lookup(const conv *c, const char *s, size_t len)
{
    for (uint32_t i = 0; i < c->n_tok; i++)
        if (c->hf_toks[i] && strlen(c->hf_toks[i]) == len && memcmp(c->hf_toks[i], s, len) == 0) return (int32_t)i;
    return -1;
}

static int alloc_vocab(conv *c, uint32_t n)
{
    c->n_tok = n;
    c->toks = calloc(n, sizeof *c->toks);
    c->hf_toks = calloc(n, sizeof *c->hf_toks);
    c->tok_lens = calloc(n, sizeof *c->tok_lens);
    c->tok_types = calloc(n, sizeof *c->tok_types);
    if (!c->toks || !c->hf_toks || !c->tok_lens || !c->tok_types) return cfail(c, "out of memory");
    for (uint32_t i = 0; i < n; i++) c->tok_types[i] = WP_TYPE_NORMAL;
    return 0;
}

static int set_token(conv *c, uint32_t id, const char *s, size_t len, const char *where)
{
    if (id >= c->n_tok) return cfail(c, "%s: token id %u out of range", where, id);
    if (memchr(s, 0, len)) return cfail(c, "%s: token %u contains a NUL byte", where, id);
    if (c->hf_toks[id]) {
        if (strlen(c->hf_toks[id]) == len && memcmp(c->hf_toks[id], s, len) == 0) return 0;
        return cfail(c, "%s: id %u is used by two tokens (%s and %.*s)", where, id, c->hf_toks[id], (int)len, s);
    }
    c->hf_toks[id] = malloc(len + 1);
    c->toks[id] = malloc(len + 4);
    if (!c->hf_toks[id] || !c->toks[id]) return cfail(c, "out of memory");
    memcpy(c->hf_toks[id], s, len);
    c->hf_toks[id][len] = '\0';
    int n = wordpiece_phantom(s, len, c->toks[id], len + 4);
    if (n < 0) return cfail(c, "%s: token %u cannot be converted", where, id);
    c->tok_lens[id] = (size_t)n;
    return 0;
}

/* A special-token setting: "[CLS]" or {"content": "[CLS]", ...}. */
static const char *special_content(const json_value *v, size_t *len)
{
    if (json_type_of(v) == JSON_OBJECT) v = json_object_get(v, "content");
    return json_string(v, len);
}

/* Resolves special token `field` (cls_token, ...) from tokenizer_config.json,
 * then special_tokens_map.json, then the BERT default name. */
static int32_t find_special(conv *c, const json_value *smap, const char *field, const char *def)
{
    size_t len;
    const char *s = special_content(json_object_get(c->tok_cfg, field), &len);
    if (!s) s = special_content(json_object_get(smap, field), &len);
    if (!s) { s = def; len = strlen(def); }
    return tok_lookup(c, s, len);
}

static int tpl_add(conv *c, int32_t *ids, int32_t *types, int *n, int32_t id, int32_t type, const char *where)
{
    if (*n >= 64) return cfail(c, "%s: template longer than 64 entries", where);
    if (type < 0 || type > 255) return cfail(c, "%s: bad type_id %d", where, type);
    ids[*n] = id;
    types[*n] = type;
    (*n)++;
    return 0;
}

static int parse_template(conv *c, const json_value *arr, const json_value *specials, int32_t *ids, int32_t *types,
                          int *n, int pair, const char *where)
{
    if (json_type_of(arr) != JSON_ARRAY) return cfail(c, "%s: template is not an array", where);
    int na = 0, nb = 0;
    for (size_t i = 0; i < json_array_len(arr); i++) {
        const json_value *e = json_array_at(arr, i), *sp = json_object_get(e, "SpecialToken"),
                         *sq = json_object_get(e, "Sequence");
        if (sq) {
            const char *id = json_string(json_object_get(sq, "id"), NULL);
            int32_t t = (int32_t)json_number(json_object_get(sq, "type_id"));
            if (!id || (strcmp(id, "A") && strcmp(id, "B"))) return cfail(c, "%s: Sequence id must be A or B", where);
            if (id[0] == 'A') na++; else nb++;
            if (tpl_add(c, ids, types, n, id[0] == 'A' ? -1 : -2, t, where)) return -1;
        } else if (sp) {
            const char *name = json_string(json_object_get(sp, "id"), NULL);
            int32_t t = (int32_t)json_number(json_object_get(sp, "type_id"));
            const json_value *def = name ? json_object_get(specials, name) : NULL;
            const json_value *dids = json_object_get(def, "ids");
            if (!name || json_type_of(dids) != JSON_ARRAY)
                return cfail(c, "%s: special token %s is not defined in special_tokens", where, name ? name : "?");
            for (size_t k = 0; k < json_array_len(dids); k++) {
                double d = json_number(json_array_at(dids, k));
                if (d < 0 || d >= c->n_tok || d != (double)(int32_t)d) return cfail(c, "%s: special token %s has id out of range", where, name);
                if (tpl_add(c, ids, types, n, (int32_t)d, t, where)) return -1;
            }
        } else return cfail(c, "%s: entry %zu is neither SpecialToken nor Sequence", where, i);
    }
    if (na != 1 || nb != (pair ? 1 : 0))
        return cfail(c, "%s: the %s template must hold sequence A%s exactly once", where, pair ? "pair" : "single", pair ? " and B" : "");
    return 0;
}

/* BERT-style [CLS] A [SEP] (B [SEP]); roberta puts two [SEP] between A and B, all type 0 */
static int simple_template(conv *c, int32_t cls, int32_t sep, int roberta)
{
    const char *w = "post_processor";
    c->n_single = c->n_pair = 0;
    if (tpl_add(c, c->tpl_single, c->tpl_single_t, &c->n_single, cls, 0, w) ||
        tpl_add(c, c->tpl_single, c->tpl_single_t, &c->n_single, -1, 0, w) ||
        tpl_add(c, c->tpl_single, c->tpl_single_t, &c->n_single, sep, 0, w))
        return -1;
    int tb = roberta ? 0 : 1;
    if (tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, cls, 0, w) ||
        tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, -1, 0, w) ||
        tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, sep, 0, w) ||
        (roberta && tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, sep, 0, w)) ||
        tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, -2, tb, w) ||
        tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, sep, tb, w))
        return -1;
    return 0;
}

/* ["[SEP]", 102] in Bert/RobertaProcessing */
static int32_t proc_token(conv *c, const json_value *pp, const char *field)
{
    const json_value *v = json_object_get(pp, field);
    double d = json_number(json_array_at(v, 1));
    if (json_type_of(json_array_at(v, 1)) != JSON_NUMBER || d < 0 || d >= c->n_tok || d != (double)(int32_t)d) return -1;
    return (int32_t)d;
}

static int read_post_processor(conv *c, const json_value *pp)
{
    const char *w = "tokenizer.json post_processor";
    const char *type = json_string(json_object_get(pp, "type"), NULL);
    if (!pp || json_type_of(pp) == JSON_NULL) {
        /* no special tokens at all */
        c->n_single = c->n_pair = 0;
        return tpl_add(c, c->tpl_single, c->tpl_single_t, &c->n_single, -1, 0, w) ||
               tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, -1, 0, w) ||
               tpl_add(c, c->tpl_pair, c->tpl_pair_t, &c->n_pair, -2, 1, w) ? -1 : 0;
    }
    if (!type) return cfail(c, "%s: no type", w);
    if (strcmp(type, "TemplateProcessing") == 0) {
        const json_value *sp = json_object_get(pp, "special_tokens");
        c->n_single = c->n_pair = 0;
        if (parse_template(c, json_object_get(pp, "single"), sp, c->tpl_single, c->tpl_single_t, &c->n_single, 0, w) ||
            parse_template(c, json_object_get(pp, "pair"), sp, c->tpl_pair, c->tpl_pair_t, &c->n_pair, 1, w))
            return -1;
        return 0;
    }
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        int32_t cls = proc_token(c, pp, "cls"), sep = proc_token(c, pp, "sep");
        if (cls < 0 || sep < 0) return cfail(c, "%s: %s needs cls and sep as [token, id] with a valid id", w, type);
        return simple_template(c, cls, sep, type[0] == 'R');
    }
    return cfail(c, "%s: %s is not supported (TemplateProcessing, BertProcessing, RobertaProcessing)", w, type);
}

static int read_tokenizer_json(conv *c)
{
    const json_value *tj = c->tok_json, *model = json_object_get(tj, "model");
    const char *mtype = json_string(json_object_get(model, "type"), NULL);
    if (!mtype || strcmp(mtype, "WordPiece") != 0)
        return cfail(c, "tokenizer.json: tokenizer model %s is not supported (only WordPiece)", mtype ? mtype : "(none)");
    const char *prefix = json_string(json_object_get(model, "continuing_subword_prefix"), NULL);
    if (prefix && strcmp(prefix, "##") != 0) return cfail(c, "tokenizer.json: continuing_subword_prefix \"%s\" is not supported (only ##)", prefix);
    const json_value *vocab = json_object_get(model, "vocab"), *added = json_object_get(tj, "added_tokens");
    if (json_type_of(vocab) != JSON_OBJECT || json_object_len(vocab) == 0) return cfail(c, "tokenizer.json: model.vocab is not a non-empty object");
    /* the vocabulary is the union of model.vocab and added_tokens, dense from 0 */
    double maxid = -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        const json_value *v = json_object_value_at(vocab, i);
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, "tokenizer.json: vocab entry %s has a bad id", json_object_key_at(vocab, i, NULL));
        if (d > maxid) maxid = d;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *v = json_object_get(json_array_at(added, i), "id");
        double d = json_number(v);
        if (json_type_of(v) != JSON_NUMBER || d < 0 || d >= (1 << 24) || d != (double)(int32_t)d)
            return cfail(c, "tokenizer.json: added_tokens[%zu] has a bad id", i);
        if (d > maxid) maxid = d;
    }
    if (alloc_vocab(c, (uint32_t)maxid + 1)) return -1;
    for (size_t i = 0; i < json_object_len(vocab); i++) {
        size_t len;
        const char *k = json_object_key_at(vocab, i, &len);
        if (set_token(c, (uint32_t)json_number(json_object_value_at(vocab, i)), k, len, "tokenizer.json vocab")) return -1;
    }
    for (size_t i = 0; i < json_array_len(added); i++) {
        const json_value *a = json_array_at(added, i);
        size_t len;
        const char *s = json_string(json_object_get(a, "content"), &len);
        uint32_t id = (uint32_t)json_number(json_object_get(a, "id"));
        if (!s) return cfail(c, "tokenizer.json: added_tokens[%zu] has no content", i);
        if (set_token(c, id, s, len, "tokenizer.json added_tokens")) return -1;
        /* llama.cpp's bert convention: special added tokens are control */
        if (json_bool(json_object_get(a, "special"))) c->tok_types[id] = WP_TYPE_CONTROL;
    }
    for (uint32_t i = 0; i < c->n_tok; i++)
        if (!c->hf_toks[i]) return cfail(c, "tokenizer.json: vocabulary id %u is missing (ids must be dense)", i);

    size_t ulen;
    const char *unk = json_string(json_object_get(model, "unk_token"), &ulen);
    if (!unk) return cfail(c, "tokenizer.json: model.unk_token missing");
    c->unk = tok_lookup(c, unk, ulen);
    if (c->unk < 0) return cfail(c, "tokenizer.json: unk_token %s is not in the vocabulary", unk);
    const json_value *mc = json_object_get(model, "max_input_chars_per_word");
    c->max_chars = 100;
    if (mc && json_type_of(mc) != JSON_NULL) {
        double d = json_number(mc);
        if (json_type_of(mc) != JSON_NUMBER || d < 1 || d > WP_MAX_WORD_CHARS || d != (double)(int)d)
            return cfail(c, "tokenizer.json: max_input_chars_per_word must be an integer in [1, %d]", WP_MAX_WORD_CHARS);
        c->max_chars = (uint32_t)d;
    }

    const json_value *norm = json_object_get(tj, "normalizer");
    if (norm && json_type_of(norm) != JSON_NULL) {
        const char *nt = json_string(json_object_get(norm, "type"), NULL);
        if (!nt || strcmp(nt, "BertNormalizer") != 0)
            return cfail(c, "tokenizer.json: normalizer %s is not supported (only BertNormalizer)", nt ? nt : "(no type)");
        const json_value *sa = json_object_get(norm, "strip_accents");
        c->lowercase = json_bool(json_object_get(norm, "lowercase"));
        c->strip_accents = (!sa || json_type_of(sa) == JSON_NULL) ? c->lowercase : json_bool(sa);
        c->cjk = json_bool(json_object_get(norm, "handle_chinese_chars"));
        c->clean_text = json_bool(json_object_get(norm, "clean_text"));
    }
    const json_value *pre = json_object_get(tj, "pre_tokenizer");
    const char *pt = json_string(json_object_get(pre, "type"), NULL);
    if (pt && strcmp(pt, "BertPreTokenizer") != 0)
        return cfail(c, "tokenizer.json: pre_tokenizer %s is not supported (only BertPreTokenizer)", pt);
    return read_post_processor(c, json_object_get(tj, "post_processor"));
}

static int read_vocab_txt(conv *c)
{
    char path[4096], msg[512];
    if (!file_exists(c->opt->hf_dir, "vocab.txt", path, sizeof path))
        return cfail(c, "%s: no tokenizer.json and no vocab.txt", c->opt->hf_dir);
    size_t n;
    char *text = json_read_file(path, &n, msg, sizeof msg);
    if (!text) return cfail(c, "%s", msg);
    uint32_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
    if (n && text[n - 1] != '\n') lines++;
    int rc = -1;
    if (lines == 0) { cfail(c, "%s: empty vocabulary", path); goto out; }
    if (alloc_vocab(c, lines)) goto out;
    size_t s = 0;
    for (uint32_t id = 0; id < lines; id++) {
        size_t e = s;
        while (e < n && text[e] != '\n') e++;
        size_t len = e - s;
        if (len && text[s + len - 1] == '\r') len--;
        if (set_token(c, id, text + s, len, "vocab.txt")) goto out;
        s = e + 1;
    }
    const json_value *tc = c->tok_cfg;
    const json_value *lc = json_object_get(tc, "do_lower_case"), *sa = json_object_get(tc, "strip_accents"),
                     *cj = json_object_get(tc, "tokenize_chinese_chars");
    c->lowercase = lc ? json_bool(lc) : 1;
    c->strip_accents = (!sa || json_type_of(sa) == JSON_NULL) ? c->lowercase : json_bool(sa);
    c->cjk = cj ? json_bool(cj) : 1;
    c->clean_text = 1;
    c->max_chars = 100;
    rc = 0;
out:
    free(text);
    return rc;
}

static int read_tokenizer(conv *c)
{
    json_value *smap = NULL;
    if (load_json(c, "tokenizer_config.json", 0, &c->tok_cfg) || load_json(c, "special_tokens_map.json", 0, &smap)) return -1;
    int rc = -1;
    if (load_json(c, "tokenizer.json", 0, &c->tok_json)) goto out;
    if (c->tok_json ? read_tokenizer_json(c) : read_vocab_txt(c)) goto out;
    if (!c->tok_json) {
        c->unk = find_special(c, smap, "unk_token", "[UNK]");
        if (c->unk < 0) { cfail(c, "vocab.txt: no unknown token"); goto out; }
    }
    c->cls = find_special(c, smap, "cls_token", "[CLS]");
    c->sep = find_special(c, smap, "sep_token", "[SEP]");
    c->pad = find_special(c, smap, "pad_token", "[PAD]");
    c->mask = find_special(c, smap, "mask_token", "[MASK]");
    const json_value *pd = json_object_get(json_object_get(c->tok_json, "padding"), "pad_id");
    if (json_type_of(pd) == JSON_NUMBER && json_number(pd) >= 0 && json_number(pd) < c->n_tok) c->pad = (int32_t)json_number(pd);
    if (!c->tok_json) {
        if (c->cls < 0 || c->sep < 0) { cfail(c, "vocab.txt: [CLS]/[SEP] tokens not found"); goto out; }
        if (simple_template(c, c->cls, c->sep, c->arch >= ARCH_XLMR)) goto out;
        int32_t sp[5] = { c->unk, c->cls, c->sep, c->pad, c->mask };
        for (int i = 0; i < 5; i++)
            if (sp[i] >= 0) c->tok_types[sp[i]] = WP_TYPE_CONTROL;
    }
    rc = 0;
out:
    json_free(smap);
    return rc;
}

/* ---- sentence-transformers ---- */

static int read_st_modules(conv *c)
{
    json_value *modules = NULL, *pool = NULL, *sbc = NULL;
    int rc = -1;
    c->pooling = (c->arch == ARCH_BERT_CLS || c->arch == ARCH_XLMR_CLS) ? POOL_RANK : POOL_MEAN;
    c->normalize = 0;
    if (load_json(c, "modules.json", 0, &modules) || load_json(c, "sentence_bert_config.json", 0, &sbc)) goto out;
    for (size_t i = 0; i < json_array_len(modules); i++) {
        const json_value *m = json_array_at(modules, i);
        const char *type = json_string(json_object_get(m, "type"), NULL);
        const char *path = json_string(json_object_get(m, "path"), NULL);
        if (!type) { cfail(c, "modules.json: module %zu has no type", i); goto out; }
        const char *dot = strrchr(type, '.');
        const char *base = dot ? dot + 1 : type;
        if (strcmp(base, "Transformer") == 0) continue;
        if (strcmp(base, "Normalize") == 0) { c->normalize = 1; continue; }
        if (strcmp(base, "Pooling") != 0) { cfail(c, "modules.json: module %s is not supported (Transformer, Pooling, Normalize)", type); goto out; }
        if (!path || strstr(path, "..")) { cfail(c, "modules.json: Pooling module has no usable path"); goto out; }
        char rel[1024];
        snprintf(rel, sizeof rel, "%s/config.json", path);
        if (load_json(c, rel, 1, &pool)) goto out;
        static const struct { const char *key; int mode; } modes[] = {
            {"pooling_mode_mean_tokens", POOL_MEAN}, {"pooling_mode_cls_token", POOL_CLS},
            {"pooling_mode_lasttoken", POOL_LAST}, {"pooling_mode_max_tokens", -1},
            {"pooling_mode_mean_sqrt_len_tokens", -1}, {"pooling_mode_weightedmean_tokens", -1},
        };
        int chosen = -1, n_on = 0;
        for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
            if (!json_bool(json_object_get(pool, modes[k].key))) continue;
            if (modes[k].mode < 0) { cfail(c, "%s/config.json: %s is not supported (mean, cls, lasttoken)", path, modes[k].key); goto out; }
            chosen = modes[k].mode;
            n_on++;
        }
        if (n_on != 1) { cfail(c, "%s/config.json: exactly one pooling mode must be enabled (found %d)", path, n_on); goto out; }
        c->pooling = (uint32_t)chosen;
    }
    c->max_seq = 0;
    const json_value *msl = json_object_get(sbc, "max_seq_length");
    if (json_type_of(msl) == JSON_NUMBER && json_number(msl) >= 1 && json_number(msl) <= 1e7) c->max_seq = (uint32_t)json_number(msl);
    if (!c->max_seq) {
        c->max_seq = c->ctx;
        const json_value *mml = json_object_get(c->tok_cfg, "model_max_length");
        if (json_type_of(mml) == JSON_NUMBER && json_number(mml) >= 1 && json_number(mml) < c->max_seq) c->max_seq = (uint32_t)json_number(mml);
    }
    if (c->max_seq > c->ctx) c->max_seq = c->ctx; /* no input can be longer than the position table */
    rc = 0;
out:
    json_free(modules);
    json_free(pool);
    json_free(sbc);
    return rc;
}

/* ---- tensors ---- */

static const st_tensor *find_hf(conv *c, const char *name)
{
    static const char *prefixes[] = {"", "bert.", "roberta."};
    char full[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(full, sizeof full, "%s%s", prefixes[i], name);
        const st_tensor *t = st_find(c->st, full);
        if (t) return t;
    }
    return NULL;
}

static void *keep(conv *c, size_t bytes)
{
    void **nb = realloc(c->bufs, (c->n_bufs + 1) * sizeof *nb);
    if (!nb) return NULL;
    c->bufs = nb;
    void *p = malloc(bytes ? bytes : 1);
    if (p) c->bufs[c->n_bufs++] = p;
    return p;
}

static float src_at(const st_tensor *t, uint64_t i)
{
    const unsigned char *p = t->data;
    if (t->dtype == ST_F32) { float f; memcpy(&f, p + 4 * i, 4); return f; }
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return t->dtype == ST_F16 ? kern_f16_to_f32(h) : kern_bf16_to_f32(h);
}

/* Adds gguf tensor `gname` from HF `hname` with torch shape rows x cols
 * (rows == 0: 1-D of cols).  skip_rows drops leading rows (XLM-R positions). */
static int add_tensor(conv *c, gguf_writer *w, convert_summary *sum, const char *gname, const char *hname,
                      uint64_t rows, uint64_t cols, uint64_t skip_rows)
{
    const st_tensor *t = find_hf(c, hname);
    if (!t) return cfail(c, "model.safetensors: missing tensor %s (needed for %s)", hname, gname);
    if (!st_dtype_is_float(t->dtype)) return cfail(c, "tensor %s: dtype %s is not supported (F32, F16, BF16)", t->name, st_dtype_name(t->dtype));
    int ok = rows ? (t->n_dims == 2 && t->shape[0] == rows && t->shape[1] == cols) : (t->n_dims == 1 && t->shape[0] == cols);
    if (!ok) {
        char got[128] = "[", exp[64];
        for (int d = 0; d < t->n_dims; d++) {
            size_t l = strlen(got);
            snprintf(got + l, sizeof got - l, "%s%llu", d ? ", " : "", (unsigned long long)t->shape[d]);
        }
        strncat(got, "]", sizeof got - strlen(got) - 1);
        if (rows) snprintf(exp, sizeof exp, "[%llu, %llu]", (unsigned long long)rows, (unsigned long long)cols);
        else snprintf(exp, sizeof exp, "[%llu]", (unsigned long long)cols);
        return cfail(c, "tensor %s: shape %s, expected %s from config.json", t->name, got, exp);
    }
    uint64_t out_rows = rows ? rows - skip_rows : 1, n = out_rows * cols;
    uint64_t off = skip_rows * cols;
    /* --dtype f16 narrows the matrices only: like llama.cpp's converter, 1-D
     * tensors and the position and token-type tables stay f32 (llama.cpp adds
     * those tables to f32 activations and cannot add an f16 one) */
    int keep_f32 = !rows || !strcmp(gname, "position_embd.weight") || !strcmp(gname, "token_types.weight");
    uint32_t gt = (!keep_f32 && c->opt->dtype == CONVERT_F16) ? GGML_TYPE_F16 : GGML_TYPE_F32;
    uint64_t ne[2] = { cols, out_rows };
    const void *data;
    if (gt == GGML_TYPE_F32 && t->dtype == ST_F32) {
        data = (const unsigned char *)t->data + 4 * off;
    } else if (gt == GGML_TYPE_F16 && t->dtype == ST_F16) {
        data = (const unsigned char *)t->data + 2 * off;
    } else if (gt == GGML_TYPE_F32) {
        float *o = keep(c, (size_t)n * 4);
        if (!o) return cfail(c, "out of memory converting %s", t->name);
        for (uint64_t i = 0; i < n; i++) o[i] = src_at(t, off + i);
        data = o;
    } else {
        uint16_t *o = keep(c, (size_t)n * 2);
        if (!o) return cfail(c, "out of memory converting %s", t->name);
        for (uint64_t i = 0; i < n; i++) o[i] = kern_f32_to_f16(src_at(t, off + i));
        data = o;
    }
    if (gguf_writer_add_tensor(w, gname, gt, rows ? 2 : 1, ne, data, 0))
        return cfail(c, "cannot add tensor %s (duplicate or out of memory)", gname);
    sum->n_tensors++;
    sum->n_params += n;
    return 0;
}

static int add_pair(conv *c, gguf_writer *w, convert_summary *sum, const char *gname, const char *hname,
                    uint64_t rows, uint64_t cols)
{
    char gw[128], gb[128], hw[192], hb[192];
    snprintf(gw, sizeof gw, "%s.weight", gname);
    snprintf(gb, sizeof gb, "%s.bias", gname);
    snprintf(hw, sizeof hw, "%s.weight", hname);
    snprintf(hb, sizeof hb, "%s.bias", hname);
    return add_tensor(c, w, sum, gw, hw, rows, cols, 0) || add_tensor(c, w, sum, gb, hb, 0, rows ? rows : cols, 0) ? -1 : 0;
}

static int add_tensors(conv *c, gguf_writer *w, convert_summary *sum)
{
    uint64_t H = c->hidden, I = c->ffn;
    uint64_t skip = c->arch >= ARCH_XLMR ? c->pad_id + 1 : 0;
    if (add_tensor(c, w, sum, "token_embd.weight", "embeddings.word_embeddings.weight", c->vocab, H, 0) ||
        add_tensor(c, w, sum, "token_types.weight", "embeddings.token_type_embeddings.weight", c->type_vocab, H, 0) ||
        add_tensor(c, w, sum, "position_embd.weight", "embeddings.position_embeddings.weight", c->max_pos, H, skip) ||
        add_pair(c, w, sum, "token_embd_norm", "embeddings.LayerNorm", 0, H))
        return -1;
    static const struct { const char *g, *h; int kind; } blk[] = {
        {"attn_q", "attention.self.query", 0}, {"attn_k", "attention.self.key", 0},
        {"attn_v", "attention.self.value", 0}, {"attn_output", "attention.output.dense", 0},
        {"attn_output_norm", "attention.output.LayerNorm", 3}, {"ffn_up", "intermediate.dense", 1},
        {"ffn_down", "output.dense", 2}, {"layer_output_norm", "output.LayerNorm", 3},
    };
    for (uint32_t l = 0; l < c->layers; l++)
        for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
            char g[96], h[160];
            snprintf(g, sizeof g, "blk.%u.%s", l, blk[k].g);
            snprintf(h, sizeof h, "encoder.layer.%u.%s", l, blk[k].h);
            uint64_t rows = blk[k].kind == 0 ? H : blk[k].kind == 1 ? I : blk[k].kind == 2 ? H : 0;
            uint64_t cols = blk[k].kind == 1 ? H : blk[k].kind == 2 ? I : H;
            if (add_pair(c, w, sum, g, h, rows, cols)) return -1;
        }
    if (c->arch == ARCH_BERT_CLS || c->arch == ARCH_XLMR_CLS) {
        const char *dense = c->arch == ARCH_BERT_CLS ? "pooler.dense" : "classifier.dense";
        const char *out = c->arch == ARCH_BERT_CLS ? "classifier" : "classifier.out_proj";
        char hw[64];
        snprintf(hw, sizeof hw, "%s.weight", out);
        const st_tensor *o = find_hf(c, hw);
        if (!o) return cfail(c, "model.safetensors: missing tensor %s (needed for cls.output.weight)", hw);
        uint64_t labels = o->n_dims == 2 ? o->shape[0] : 0;
        if (labels < 1 || labels > 65536) return cfail(c, "tensor %s: expected shape [num_labels, %llu]", hw, (unsigned long long)H);
        if (add_pair(c, w, sum, "cls", dense, H, H) || add_pair(c, w, sum, "cls.output", out, labels, H)) return -1;
    }
    return 0;
}

/* ---- keys ---- */

static int set_tokenizer_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    bad |= gguf_writer_set_str(w, KEY_TOK_MODEL, "bert", 4);
    bad |= gguf_writer_set_str_arr(w, KEY_TOK_TOKENS, (const char *const *)c->toks, c->tok_lens, c->n_tok);
    bad |= gguf_writer_set_arr(w, KEY_TOK_TYPES, GGUF_TYPE_INT32, c->tok_types, c->n_tok);
    if (!c->opt->vocab_only) bad |= gguf_writer_set_u32(w, KEY_TOK_TYPE_COUNT, c->type_vocab);
    bad |= gguf_writer_set_u32(w, KEY_TOK_UNK, (uint32_t)c->unk);
    if (c->sep >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_SEP, (uint32_t)c->sep);
    if (c->pad >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_PAD, (uint32_t)c->pad);
    if (c->cls >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_CLS, (uint32_t)c->cls);
    if (c->mask >= 0) bad |= gguf_writer_set_u32(w, KEY_TOK_MASK, (uint32_t)c->mask);
    bad |= gguf_writer_set_bool(w, KEY_E_LOWER, c->lowercase);
    bad |= gguf_writer_set_bool(w, KEY_E_STRIP, c->strip_accents);
    bad |= gguf_writer_set_bool(w, KEY_E_CJK, c->cjk);
    bad |= gguf_writer_set_bool(w, KEY_E_CLEAN, c->clean_text);
    bad |= gguf_writer_set_u32(w, KEY_E_MAXCHARS, c->max_chars);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_SINGLE, GGUF_TYPE_INT32, c->tpl_single, (uint64_t)c->n_single);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_SINGLE_T, GGUF_TYPE_INT32, c->tpl_single_t, (uint64_t)c->n_single);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_PAIR, GGUF_TYPE_INT32, c->tpl_pair, (uint64_t)c->n_pair);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_PAIR_T, GGUF_TYPE_INT32, c->tpl_pair_t, (uint64_t)c->n_pair);
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static int set_model_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    const char *nm = json_string(json_object_get(c->config, "_name_or_path"), NULL);
    if (!nm || !*nm) nm = c->opt->hf_dir;
    const char *slash = strrchr(nm, '/');
    if (slash && slash[1]) nm = slash + 1;
    bad |= gguf_writer_set_str(w, KEY_NAME, nm, strlen(nm));
    bad |= gguf_writer_set_u32(w, KEY_FILE_TYPE, c->opt->dtype == CONVERT_F16 ? 1 : 0);
    bad |= gguf_writer_set_u32(w, KEY_ALIGNMENT, GGUF_DEFAULT_ALIGNMENT);
    bad |= gguf_writer_set_u32(w, KEY_CTX, c->ctx);
    bad |= gguf_writer_set_u32(w, KEY_EMBD, c->hidden);
    bad |= gguf_writer_set_u32(w, KEY_FFN, c->ffn);
    bad |= gguf_writer_set_u32(w, KEY_BLOCKS, c->layers);
    bad |= gguf_writer_set_u32(w, KEY_HEADS, c->heads);
    bad |= gguf_writer_set_f32(w, KEY_LN_EPS, (float)c->ln_eps);
    bad |= gguf_writer_set_bool(w, KEY_CAUSAL, 0);
    bad |= gguf_writer_set_u32(w, KEY_POOLING, c->pooling);
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static int set_ember_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    char src[4200];
    snprintf(src, sizeof src, "%s (%s)", c->opt->hf_dir, c->arch_name);
    bad |= gguf_writer_set_u32(w, KEY_E_MAX_SEQ, c->max_seq);
    bad |= gguf_writer_set_bool(w, KEY_E_NORMALIZE, c->normalize);
    bad |= gguf_writer_set_str(w, KEY_E_SOURCE, src, strlen(src));
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static void conv_free(conv *c)
{
    for (uint32_t i = 0; c->toks && i < c->n_tok; i++) { free(c->toks[i]); free(c->hf_toks[i]); }
    free(c->toks);
    free(c->hf_toks);
    free(c->tok_lens);
    free(c->tok_types);
    json_free(c->config);
    json_free(c->tok_json);
    json_free(c->tok_cfg);
    for (size_t i = 0; i < c->n_bufs; i++) free(c->bufs[i]);
    free(c->bufs);
    st_close(c->st);
}

int convert_hf_to_gguf(const convert_options *opt, convert_summary *sum, char *err, size_t errlen)
{
    conv c;
    convert_summary dummy;
    memset(&c, 0, sizeof c);
    if (!sum) sum = &dummy;
    memset(sum, 0, sizeof *sum);
    c.opt = opt;
    c.err = err;
    c.errlen = errlen;
    gguf_writer *w = NULL;
    int rc = -1;
    if (read_config(&c) || read_tokenizer(&c)) goto out;
    snprintf(sum->arch, sizeof sum->arch, "%s", c.arch_name);
    sum->n_vocab = c.n_tok;
    if (!opt->vocab_only) {
        if (c.n_tok != c.vocab) {
            cfail(&c, "tokenizer has %u tokens but config.json vocab_size is %u", c.n_tok, c.vocab);
            goto out;
        }
        if (read_st_modules(&c)) goto out;
        char msg[768];
        c.st = st_open_dir(opt->hf_dir, msg, sizeof msg);
        if (!c.st) { cfail(&c, "%s", msg); goto out; }
    }
    w = gguf_writer_new();
    if (!w) { cfail(&c, "out of memory"); goto out; }
    if (gguf_writer_set_str(w, KEY_ARCH, "bert", 4)) { cfail(&c, "out of memory"); goto out; }
    if (!opt->vocab_only && set_model_keys(&c, w)) goto out;
    if (set_tokenizer_keys(&c, w)) goto out;
    if (!opt->vocab_only && (set_ember_keys(&c, w) || add_tensors(&c, w, sum))) goto out;
    sum->pooling = c.pooling;
    sum->max_seq_length = c.max_seq;
    sum->normalize = c.normalize;
    char msg[512];
    if (gguf_writer_write(w, opt->out_path, msg, sizeof msg)) { cfail(&c, "%s", msg); goto out; }
    rc = 0;
out:
    gguf_writer_free(w);
    conv_free(&c);
    return rc;
}
