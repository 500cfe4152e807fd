/* HF folder -> GGUF, the driver: the folder and its JSON files, the family
 * and tokenizer tables (convert_internal.h says the order of a conversion),
 * the vocabulary and post-processor templates every reader shares, the
 * sentence-transformers modules, the tensors' shape checks and type
 * conversions, and the GGUF writing.  What is particular to a model family
 * is in convert_<family>.c, to a tokenizer type in convert_tok_<type>.c.
 *
 * The one part of tools/ that reaches below include/ember.h (with its
 * readers json.c and safetensors.c, and cmd_convert.c over it): the library
 * reads models, and writing one takes the GGUF writer (model/gguf_write.c),
 * its key names, the weight-type traits of kernels/ and the WordPiece
 * vocabulary checks of tokenizer/.  The rest of the CLI uses the public API
 * only; tests/test_cli_api_only.c holds that line. */
#include "tools/convert_internal.h"
#include "model/gguf_keys.h"
#include "kernels/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The model families, by the HF architectures each converts. */
static const convert_family *const FAMILIES[] = { &convert_bert, &convert_jinabert, &convert_qwen3 };
/* The tokenizer readers, by tokenizer.json model.type. */
static const convert_tokenizer *const TOKENIZERS[] = { &convert_tok_wordpiece, &convert_tok_bpe, &convert_tok_unigram };

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

int cfail(conv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->err && c->errlen) vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int conv_file_exists(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

int conv_load_json(conv *c, const char *name, int required, json_value **out)
{
    char path[4096], msg[512];
    *out = NULL;
    if (!conv_file_exists(c->opt->hf_dir, name, path, sizeof path)) {
        if (required) return cfail(c, "%s: missing (not a HuggingFace model folder?)", path);
        return 0;
    }
    *out = json_parse_file(path, msg, sizeof msg);
    if (!*out) return cfail(c, "%s", msg);
    return 0;
}

/* ---- config.json ---- */

int conv_cfg_u32(conv *c, const char *key, uint32_t lo, uint32_t hi, int required, uint32_t def, uint32_t *v)
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

/* "BertModel, BertForSequenceClassification, ..." */
static void family_names(char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t f = 0; f < COUNT(FAMILIES); f++)
        for (const convert_hf_arch *a = FAMILIES[f]->names; a->name && len < cap; a++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", a->name);
}

/* architectures[0] -> the family and its flags; then, unless --vocab-only,
 * the family's hyper-parameters.  --vocab-only needs no config.json (a
 * tokenizer folder): the family stays NULL. */
static int read_config(conv *c)
{
    if (conv_load_json(c, "config.json", !c->opt->vocab_only, &c->config)) return -1;
    if (!c->config) return 0;
    if (json_type_of(c->config) != JSON_OBJECT) return cfail(c, "config.json: not a JSON object");
    const json_value *archs = json_object_get(c->config, "architectures");
    const char *a = json_string(json_array_at(archs, 0), NULL);
    if (!a) return cfail(c, "config.json: no architectures[0]; cannot tell which model this is");
    for (size_t f = 0; f < COUNT(FAMILIES) && !c->family; f++)
        for (const convert_hf_arch *n = FAMILIES[f]->names; n->name; n++)
            if (strcmp(a, n->name) == 0) { c->family = FAMILIES[f]; c->flags = n->flags; break; }
    snprintf(c->arch_name, sizeof c->arch_name, "%s", a);
    if (!c->family) {
        char known[512];
        family_names(known, sizeof known);
        return cfail(c, "config.json: unsupported architecture %s (ember converts %s)", a, known);
    }
    if (c->opt->vocab_only) return 0;
    return c->family->read_config(c);
}

/* ---- the vocabulary ---- */

int32_t conv_tok_lookup(const conv *c, const char *s, size_t len)
{
    for (uint32_t i = 0; i < c->n_tok; i++)
        if (c->hf_toks[i] && strlen(c->hf_toks[i]) == len && memcmp(c->hf_toks[i], s, len) == 0) return (int32_t)i;
    return -1;
}

int conv_alloc_vocab(conv *c, uint32_t n)
{
    c->n_tok = n;
    c->toks = calloc(n, sizeof *c->toks);
    c->hf_toks = calloc(n, sizeof *c->hf_toks);
    c->tok_lens = calloc(n, sizeof *c->tok_lens);
    c->tok_types = calloc(n, sizeof *c->tok_types);
    if (!c->toks || !c->hf_toks || !c->tok_lens || !c->tok_types) return cfail(c, "out of memory");
    for (uint32_t i = 0; i < n; i++) c->tok_types[i] = CONV_TOK_NORMAL;
    return 0;
}

int conv_set_token(conv *c, uint32_t id, const char *s, size_t len, const char *where)
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
    int n = (int)len;
    if (c->tok->gguf_token) n = c->tok->gguf_token(s, len, c->toks[id], len + 4);
    else memcpy(c->toks[id], s, len);
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

int32_t conv_find_special(conv *c, const char *field, const char *def)
{
    size_t len;
    const char *s = special_content(json_object_get(c->tok_cfg, field), &len);
    if (!s) s = special_content(json_object_get(c->special_map, field), &len);
    if (!s) { s = def; len = strlen(def); }
    return conv_tok_lookup(c, s, len);
}

/* ---- post-processor templates ---- */

static int tpl_add(conv *c, int32_t *ids, int32_t *types, int *n, int32_t id, int32_t type, const char *where)
{
    if (*n >= CONV_TPL_MAX) return cfail(c, "%s: template longer than %d entries", where, CONV_TPL_MAX);
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

int conv_simple_template(conv *c, int32_t cls, int32_t sep, int roberta)
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

int conv_read_post_processor(conv *c, const json_value *pp)
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
        return conv_simple_template(c, cls, sep, type[0] == 'R');
    }
    return cfail(c, "%s: %s is not supported (TemplateProcessing, BertProcessing, RobertaProcessing)", w, type);
}

int conv_set_template_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_SINGLE, GGUF_TYPE_INT32, c->tpl_single, (uint64_t)c->n_single);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_SINGLE_T, GGUF_TYPE_INT32, c->tpl_single_t, (uint64_t)c->n_single);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_PAIR, GGUF_TYPE_INT32, c->tpl_pair, (uint64_t)c->n_pair);
    bad |= gguf_writer_set_arr(w, KEY_E_TPL_PAIR_T, GGUF_TYPE_INT32, c->tpl_pair_t, (uint64_t)c->n_pair);
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

/* ---- added tokens' flags ---- */

static int append_id(int32_t **list, int *n, int32_t id)
{
    int32_t *l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
    if (!l) return -1;
    l[(*n)++] = id;
    *list = l;
    return 0;
}

int conv_added_flags(conv *c, const json_value *a, const char *content, uint32_t id)
{
    if (json_bool(json_object_get(a, "single_word")))
        return cfail(c, "tokenizer.json: added token %s has single_word set, which ember does not reproduce", content);
    if ((json_bool(json_object_get(a, "lstrip")) && append_id(&c->lstrip, &c->n_lstrip, (int32_t)id)) ||
        (json_bool(json_object_get(a, "rstrip")) && append_id(&c->rstrip, &c->n_rstrip, (int32_t)id)))
        return cfail(c, "out of memory");
    return 0;
}

int conv_set_strip_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    if (c->n_lstrip) bad |= gguf_writer_set_arr(w, KEY_E_LSTRIP, GGUF_TYPE_INT32, c->lstrip, (uint64_t)c->n_lstrip);
    if (c->n_rstrip) bad |= gguf_writer_set_arr(w, KEY_E_RSTRIP, GGUF_TYPE_INT32, c->rstrip, (uint64_t)c->n_rstrip);
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

/* ---- the tokenizer: which reader ---- */

static int read_tokenizer(conv *c)
{
    if (conv_load_json(c, "tokenizer_config.json", 0, &c->tok_cfg) ||
        conv_load_json(c, "special_tokens_map.json", 0, &c->special_map) ||
        conv_load_json(c, "tokenizer.json", 0, &c->tok_json))
        return -1;
    char known[256] = "", path[4096];
    size_t len = 0;
    if (c->tok_json) {
        const char *mtype = json_string(json_object_get(json_object_get(c->tok_json, "model"), "type"), NULL);
        for (size_t i = 0; i < COUNT(TOKENIZERS) && mtype && !c->tok; i++)
            if (strcmp(mtype, TOKENIZERS[i]->type) == 0) c->tok = TOKENIZERS[i];
        if (c->tok) return c->tok->read_json(c);
        for (size_t i = 0; i < COUNT(TOKENIZERS) && len < sizeof known; i++)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", TOKENIZERS[i]->type);
        return cfail(c, "tokenizer.json: tokenizer model %s is not supported (only %s)", mtype ? mtype : "(none)", known);
    }
    for (size_t i = 0; i < COUNT(TOKENIZERS) && !c->tok; i++)
        if (TOKENIZERS[i]->file && conv_file_exists(c->opt->hf_dir, TOKENIZERS[i]->file, path, sizeof path))
            c->tok = TOKENIZERS[i];
    if (c->tok) return c->tok->read_file(c);
    for (size_t i = 0; i < COUNT(TOKENIZERS) && len < sizeof known; i++)
        if (TOKENIZERS[i]->file)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", len ? ", no " : "no ", TOKENIZERS[i]->file);
    return cfail(c, "%s: no tokenizer.json and %s", c->opt->hf_dir, known);
}

/* ---- sentence-transformers ---- */

/* A prompt as a NUL-terminated copy into *out (NULL when absent or empty). */
static int copy_prompt(conv *c, const char *s, size_t len, const char *what, char **out)
{
    if (!s || !len) return 0;
    if (memchr(s, 0, len)) return cfail(c, "%s holds a NUL", what);
    /* ember's formats name the text {text} and the task {task}: a prompt
     * holding either would have it filled in */
    for (size_t i = 0; i + 6 <= len; i++)
        if (!strncmp(s + i, "{text}", 6) || !strncmp(s + i, "{task}", 6))
            return cfail(c, "%s holds \"%.6s\", which ember's prompt formats cannot carry as text", what, s + i);
    if (!(*out = malloc(len + 1))) return cfail(c, "out of memory");
    memcpy(*out, s, len);
    (*out)[len] = '\0';
    return 0;
}

/* The texts put before a query and before a document: --query-prefix /
 * --document-prefix, else config_sentence_transformers.json's prompts
 * (a document's as sentence-transformers' encode_document looks for it:
 * "document", then "passage", then "corpus") */
static int read_st_prompts(conv *c)
{
    json_value *cst = NULL;
    if (conv_load_json(c, "config_sentence_transformers.json", 0, &cst)) return -1;
    const json_value *prompts = json_object_get(cst, "prompts");
    static const char *const doc_names[] = {"document", "passage", "corpus"};
    size_t ql = 0, dl = 0;
    const char *q = json_string(json_object_get(prompts, "query"), &ql), *d = NULL;
    for (size_t i = 0; i < sizeof doc_names / sizeof doc_names[0] && !d; i++)
        d = json_string(json_object_get(prompts, doc_names[i]), &dl);
    if (c->opt->query_prefix) q = c->opt->query_prefix, ql = strlen(q);
    if (c->opt->document_prefix) d = c->opt->document_prefix, dl = strlen(d);
    int rc = copy_prompt(c, q, ql, "the query prompt", &c->query_prompt) ||
             copy_prompt(c, d, dl, "the document prompt", &c->doc_prompt) ? -1 : 0;
    json_free(cst);
    return rc;
}

/* modules.json and its Pooling module (c->pooling keeps the family's
 * default without one), sentence_bert_config.json's max_seq_length */
static int read_st_modules(conv *c)
{
    json_value *modules = NULL, *pool = NULL, *sbc = NULL;
    int rc = -1;
    c->normalize = 0;
    if (conv_load_json(c, "modules.json", 0, &modules) || conv_load_json(c, "sentence_bert_config.json", 0, &sbc)) goto out;
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
        if (conv_load_json(c, rel, 1, &pool)) goto out;
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
    if (read_st_prompts(c)) goto out;
    rc = 0;
out:
    json_free(modules);
    json_free(pool);
    json_free(sbc);
    return rc;
}

/* ---- tensors ---- */

const st_tensor *conv_find_tensor(conv *c, const char *name)
{
    char full[256];
    for (const char *const *p = c->family->hf_prefixes; *p; p++) {
        snprintf(full, sizeof full, "%s%s", *p, name);
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

/* A checkpoint dtype as a weight type; -1 for one ember does not convert. */
static int st_wtype(int dtype, kern_wtype *wt)
{
    switch (dtype) {
    case ST_F32: *wt = KERN_W_F32; return 0;
    case ST_F16: *wt = KERN_W_F16; return 0;
    case ST_BF16: *wt = KERN_W_BF16; return 0;
    default: return -1;
    }
}

int conv_tensor(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                uint64_t skip_rows, int keep_f32)
{
    const st_tensor *t = conv_find_tensor(c, hname);
    if (!t) return cfail(c, "model.safetensors: missing tensor %s (needed for %s)", hname, gname);
    kern_wtype st;
    if (st_wtype(t->dtype, &st)) return cfail(c, "tensor %s: dtype %s is not supported (F32, F16, BF16)", t->name, st_dtype_name(t->dtype));
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
     * tensors stay f32, and so do the tables the family keeps (llama.cpp
     * adds BERT's position and token-type tables to f32 activations and
     * cannot add an f16 one) */
    kern_wtype gt = !rows || keep_f32 ? KERN_W_F32
                    : c->opt->dtype == CONVERT_F16 ? KERN_W_F16 : c->opt->dtype == CONVERT_BF16 ? KERN_W_BF16 : KERN_W_F32;
    uint64_t ne[2] = { cols, out_rows };
    const void *src = (const unsigned char *)t->data + kern_wtype_bytes(st, (size_t)off), *data = src;
    if (gt != st) { /* widened to f32, then narrowed when the output is not f32 */
        void *o = keep(c, kern_wtype_bytes(gt, (size_t)n));
        float *f = gt == KERN_W_F32 ? o : malloc((size_t)n * sizeof(float));
        if (!o || !f) {
            if ((void *)f != o) free(f);
            return cfail(c, "out of memory converting %s", t->name);
        }
        kern_wtype_traits_of(st)->to_f32(src, f, (size_t)n);
        if ((void *)f != o) {
            kern_wtype_traits_of(gt)->from_f32(f, o, (size_t)n);
            free(f);
        }
        data = o;
    }
    if (gguf_writer_add_tensor(c->w, gname, gguf_ggml_type(gt), rows ? 2 : 1, ne, data, 0))
        return cfail(c, "cannot add tensor %s (duplicate or out of memory)", gname);
    c->sum->n_tensors++;
    c->sum->n_params += n;
    return 0;
}

int conv_tensor_pair(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols)
{
    char gw[128], gb[128], hw[192], hb[192];
    snprintf(gw, sizeof gw, "%s.weight", gname);
    snprintf(gb, sizeof gb, "%s.bias", gname);
    snprintf(hw, sizeof hw, "%s.weight", hname);
    snprintf(hb, sizeof hb, "%s.bias", hname);
    return conv_tensor(c, gw, hw, rows, cols, 0, 0) || conv_tensor(c, gb, hb, 0, rows ? rows : cols, 0, 0) ? -1 : 0;
}

int conv_tensor_rows(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                     const uint32_t *pick, int n_pick)
{
    const st_tensor *t = conv_find_tensor(c, hname);
    if (!t) return cfail(c, "model.safetensors: missing tensor %s (needed for %s)", hname, gname);
    kern_wtype st;
    if (st_wtype(t->dtype, &st)) return cfail(c, "tensor %s: dtype %s is not supported (F32, F16, BF16)", t->name, st_dtype_name(t->dtype));
    if (t->n_dims != 2 || t->shape[0] != rows || t->shape[1] != cols)
        return cfail(c, "tensor %s: expected shape [%llu, %llu] from config.json", t->name, (unsigned long long)rows,
                     (unsigned long long)cols);
    kern_wtype gt = c->opt->dtype == CONVERT_F16 ? KERN_W_F16 : c->opt->dtype == CONVERT_BF16 ? KERN_W_BF16 : KERN_W_F32;
    unsigned char *o = keep(c, kern_wtype_bytes(gt, (size_t)n_pick * cols));
    float *row = malloc((size_t)cols * sizeof(float));
    if (!o || !row) { free(row); return cfail(c, "out of memory converting %s", t->name); }
    for (int r = 0; r < n_pick; r++) {
        if (pick[r] >= rows) { free(row); return cfail(c, "tensor %s: row %u out of range", t->name, pick[r]); }
        kern_wtype_traits_of(st)->to_f32((const unsigned char *)t->data + kern_wtype_bytes(st, (size_t)pick[r] * cols), row, (size_t)cols);
        kern_wtype_traits_of(gt)->from_f32(row, o + kern_wtype_bytes(gt, (size_t)r * cols), (size_t)cols);
    }
    free(row);
    uint64_t ne[2] = { cols, (uint64_t)n_pick };
    if (gguf_writer_add_tensor(c->w, gname, gguf_ggml_type(gt), 2, ne, o, 0))
        return cfail(c, "cannot add tensor %s (duplicate or out of memory)", gname);
    c->sum->n_tensors++;
    c->sum->n_params += (uint64_t)n_pick * cols;
    return 0;
}

int conv_tensor_part(conv *c, const char *gname, const char *hname, uint64_t rows, uint64_t cols,
                     uint64_t first, uint64_t n)
{
    const uint64_t len = rows ? rows : cols;
    if (n == 0 || first > len || n > len - first || n > INT32_MAX)
        return cfail(c, "%s: part [%llu, %llu) does not fit %llu rows", hname, (unsigned long long)first,
                     (unsigned long long)(first + n), (unsigned long long)len);
    if (rows) {
        uint32_t *pick = malloc((size_t)n * sizeof *pick);
        if (!pick) return cfail(c, "out of memory converting %s", hname);
        for (uint64_t i = 0; i < n; i++) pick[i] = (uint32_t)(first + i);
        int rc = conv_tensor_rows(c, gname, hname, rows, cols, pick, (int)n);
        free(pick);
        return rc;
    }
    const st_tensor *t = conv_find_tensor(c, hname);
    if (!t) return cfail(c, "model.safetensors: missing tensor %s (needed for %s)", hname, gname);
    kern_wtype st;
    if (st_wtype(t->dtype, &st)) return cfail(c, "tensor %s: dtype %s is not supported (F32, F16, BF16)", t->name, st_dtype_name(t->dtype));
    if (t->n_dims != 1 || t->shape[0] != cols)
        return cfail(c, "tensor %s: expected shape [%llu] from config.json", t->name, (unsigned long long)cols);
    /* a vector stays f32, as conv_tensor keeps every 1-D tensor */
    float *o = keep(c, (size_t)n * sizeof(float));
    if (!o) return cfail(c, "out of memory converting %s", t->name);
    kern_wtype_traits_of(st)->to_f32((const unsigned char *)t->data + kern_wtype_bytes(st, (size_t)first), o, (size_t)n);
    uint64_t ne[1] = { n };
    if (gguf_writer_add_tensor(c->w, gname, gguf_ggml_type(KERN_W_F32), 1, ne, o, 0))
        return cfail(c, "cannot add tensor %s (duplicate or out of memory)", gname);
    c->sum->n_tensors++;
    c->sum->n_params += n;
    return 0;
}

/* ---- keys ---- */

/* general.name, general.file_type, general.alignment, then the family's */
static int set_model_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    const char *nm = json_string(json_object_get(c->config, "_name_or_path"), NULL);
    if (!nm || !*nm) nm = c->opt->hf_dir;
    const char *slash = strrchr(nm, '/');
    if (slash && slash[1]) nm = slash + 1;
    bad |= gguf_writer_set_str(w, KEY_NAME, nm, strlen(nm));
    /* llama.cpp's LLAMA_FTYPE: all f32 0, mostly f16 1, mostly bf16 32 */
    bad |= gguf_writer_set_u32(w, KEY_FILE_TYPE, c->opt->dtype == CONVERT_F16 ? 1 : c->opt->dtype == CONVERT_BF16 ? 32 : 0);
    bad |= gguf_writer_set_u32(w, KEY_ALIGNMENT, GGUF_DEFAULT_ALIGNMENT);
    if (bad) return cfail(c, "out of memory building the GGUF keys");
    return c->family->set_model_keys(c, w);
}

static int set_ember_keys(conv *c, gguf_writer *w)
{
    int bad = 0;
    char src[4200];
    snprintf(src, sizeof src, "%s (%s)", c->opt->hf_dir, c->arch_name);
    bad |= gguf_writer_set_u32(w, KEY_E_MAX_SEQ, c->max_seq);
    bad |= gguf_writer_set_bool(w, KEY_E_NORMALIZE, c->normalize);
    bad |= gguf_writer_set_str(w, KEY_E_SOURCE, src, strlen(src));
    if (c->opt->n_matryoshka_dims) {
        for (int i = 0; i < c->opt->n_matryoshka_dims; i++)
            if (c->opt->matryoshka_dims[i] > c->hidden)
                return cfail(c, "--matryoshka-dims %u is more than the model's %u dimensions", c->opt->matryoshka_dims[i],
                             c->hidden);
        bad |= gguf_writer_set_arr(w, KEY_E_MRL_DIMS, GGUF_TYPE_UINT32, c->opt->matryoshka_dims,
                                   (uint64_t)c->opt->n_matryoshka_dims);
    } else if (c->mrl_min_dim) {
        bad |= gguf_writer_set_u32(w, KEY_E_MRL_MIN, c->mrl_min_dim);
    }
    if (c->query_prompt) {
        /* "Instruct: TASK\nQuery:" (Qwen3-Embedding) becomes a format with the
         * task apart, so that another task can be given; any other prompt
         * is put before the text as it is */
        static const char ins[] = "Instruct: ", qry[] = "\nQuery:";
        const char *p = c->query_prompt;
        size_t n = strlen(p), li = strlen(ins), lq = strlen(qry);
        char *fmt = malloc(n + 32);
        if (!fmt) return cfail(c, "out of memory");
        if (n >= li + lq && !strncmp(p, ins, li) && !strcmp(p + n - lq, qry)) {
            snprintf(fmt, n + 32, "Instruct: {task}\nQuery:{text}");
            bad |= gguf_writer_set_str(w, KEY_E_PROMPT_TASK, p + li, n - li - lq);
        } else {
            snprintf(fmt, n + 32, "%s{text}", p);
        }
        bad |= gguf_writer_set_str(w, KEY_E_PROMPT_QUERY, fmt, strlen(fmt));
        free(fmt);
    }
    if (c->doc_prompt) {
        size_t n = strlen(c->doc_prompt);
        char *fmt = malloc(n + 8);
        if (!fmt) return cfail(c, "out of memory");
        snprintf(fmt, n + 8, "%s{text}", c->doc_prompt);
        bad |= gguf_writer_set_str(w, KEY_E_PROMPT_DOC, fmt, strlen(fmt));
        free(fmt);
    }
    return bad ? cfail(c, "out of memory building the GGUF keys") : 0;
}

static void conv_free(conv *c)
{
    for (uint32_t i = 0; c->toks && i < c->n_tok; i++) { free(c->toks[i]); free(c->hf_toks[i]); }
    free(c->toks);
    free(c->hf_toks);
    free(c->tok_lens);
    free(c->tok_types);
    free(c->query_prompt);
    free(c->doc_prompt);
    for (uint32_t i = 0; c->merges && i < c->n_merges; i++) free(c->merges[i]);
    free(c->merges);
    free(c->merge_lens);
    free(c->scores);
    for (int i = 0; i < 2 * UG_MAX_NORM; i++) free(c->ug_strs[i]);
    free(c->ug_charsmap);
    free(c->lstrip);
    free(c->rstrip);
    json_free(c->config);
    json_free(c->tok_json);
    json_free(c->tok_cfg);
    json_free(c->special_map);
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
    c.sum = sum;
    int rc = -1;
    if (read_config(&c) || read_tokenizer(&c)) goto out;
    if (!c.family) snprintf(c.arch_name, sizeof c.arch_name, "%s", c.tok->type); /* no config.json */
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
    c.w = gguf_writer_new();
    if (!c.w) { cfail(&c, "out of memory"); goto out; }
    const char *ga = c.family ? c.family->gguf_arch : c.tok->vocab_arch;
    if (gguf_writer_set_str(c.w, KEY_ARCH, ga, strlen(ga))) { cfail(&c, "out of memory"); goto out; }
    if (!opt->vocab_only && set_model_keys(&c, c.w)) goto out;
    if (c.tok->set_keys(&c, c.w)) goto out;
    if (!opt->vocab_only && (set_ember_keys(&c, c.w) || c.family->add_tensors(&c))) goto out;
    sum->pooling = c.pooling;
    sum->max_seq_length = c.max_seq;
    sum->normalize = c.normalize;
    char msg[512];
    if (gguf_writer_write(c.w, opt->out_path, msg, sizeof msg)) { cfail(&c, "%s", msg); goto out; }
    rc = 0;
out:
    gguf_writer_free(c.w);
    conv_free(&c);
    return rc;
}
