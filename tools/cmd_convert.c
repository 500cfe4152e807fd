/* `ember convert <hf_dir> <out.gguf> [--dtype f32|f16|bf16] [--kind embed|rerank] [--vocab-only] ...` */
#include "tools/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/commands.h"

static const char *pool_name(uint32_t p)
{
    static const char *n[] = {"none", "mean", "cls", "last", "rank"};
    return p < 5 ? n[p] : "?";
}

/* "64,128,256": ascending, 1..65536, at most 32 */
static int parse_dims(const char *v, convert_options *opt)
{
    opt->n_matryoshka_dims = 0;
    for (const char *p = v;;) {
        char *end;
        long d = strtol(p, &end, 10);
        if (end == p || d < 1 || d > 65536 || opt->n_matryoshka_dims == 32 ||
            (opt->n_matryoshka_dims && (uint32_t)d <= opt->matryoshka_dims[opt->n_matryoshka_dims - 1]))
            return -1;
        opt->matryoshka_dims[opt->n_matryoshka_dims++] = (uint32_t)d;
        if (*end == '\0') return 0;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ember convert <hf_dir> <out.gguf> [--dtype f32|f16|bf16] [--kind embed|rerank] [--vocab-only]\n"
            "\n"
            "Converts a HuggingFace checkpoint folder (config.json, model.safetensors or a sharded\n"
            "model.safetensors.index.json, tokenizer.json or vocab.txt, sentence-transformers files)\n"
            "to GGUF.  Supported: BertModel, BertForSequenceClassification, XLMRobertaModel,\n"
            "XLMRobertaForSequenceClassification (WordPiece or Unigram tokenizers); Qwen3-Embedding\n"
            "and Qwen3-Reranker (Qwen3ForCausalLM).\n"
            "\n"
            "  --dtype f32|f16|bf16  weight matrices as f32 (default), f16 or bf16; vectors stay f32\n"
            "  --kind embed|rerank   what a Qwen3ForCausalLM folder holds, when neither its\n"
            "                        sentence-transformers files nor its name tell\n"
            "  --vocab-only          write only the tokenizer (no weights)\n"
            "  --matryoshka-dims D,D,...  the output dimensions the embedder was trained to be cut\n"
            "                        to (Matryoshka; from its model card), ascending; `ember embed\n"
            "                        --dims` warns on others.  Qwen3-Embedding records its own\n"
            "                        (any from 32 up)\n"
            "  --query-prefix TEXT   the text an embedder's queries start with (`ember embed --query`,\n"
            "                        `ember search`); multilingual-e5: \"query: \"\n"
            "  --document-prefix TEXT  the text its documents start with (`ember embed`, `ember\n"
            "                        index`); multilingual-e5: \"passage: \".  Both default to\n"
            "                        config_sentence_transformers.json's prompts (query; document,\n"
            "                        passage or corpus); \"\" stores none\n"
            "  -h, --help            this text\n");
}

int cmd_convert(int argc, char **argv)
{
    convert_options opt = {0};
    const char *pos[2] = {0};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        if (strcmp(a, "--vocab-only") == 0) { opt.vocab_only = 1; continue; }
        if (strcmp(a, "--dtype") == 0 || strncmp(a, "--dtype=", 8) == 0) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) { fprintf(stderr, "ember convert: --dtype needs a value (f32, f16 or bf16)\n"); return 2; }
            if (strcmp(v, "f32") == 0) opt.dtype = CONVERT_F32;
            else if (strcmp(v, "f16") == 0) opt.dtype = CONVERT_F16;
            else if (strcmp(v, "bf16") == 0) opt.dtype = CONVERT_BF16;
            else { fprintf(stderr, "ember convert: --dtype %s: expected f32, f16 or bf16\n", v); return 2; }
            continue;
        }
        if (strcmp(a, "--kind") == 0 || strncmp(a, "--kind=", 7) == 0) {
            const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) { fprintf(stderr, "ember convert: --kind needs a value (embed or rerank)\n"); return 2; }
            if (strcmp(v, "embed") == 0) opt.kind = CONVERT_KIND_EMBED;
            else if (strcmp(v, "rerank") == 0) opt.kind = CONVERT_KIND_RERANK;
            else { fprintf(stderr, "ember convert: --kind %s: expected embed or rerank\n", v); return 2; }
            continue;
        }
        if (strcmp(a, "--matryoshka-dims") == 0 || strncmp(a, "--matryoshka-dims=", 18) == 0) {
            const char *v = a[17] == '=' ? a + 18 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || parse_dims(v, &opt) != 0) {
                fprintf(stderr, "ember convert: --matryoshka-dims needs ascending numbers from 1 separated by commas "
                        "(at most 32), e.g. 64,128,256,512,768\n");
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--query-prefix") == 0 || strcmp(a, "--document-prefix") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "ember convert: %s needs a value (\"\" for none)\n", a); return 2; }
            *(a[2] == 'q' ? &opt.query_prefix : &opt.document_prefix) = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1]) { fprintf(stderr, "ember convert: unknown option %s\n", a); usage(stderr); return 2; }
        if (npos == 2) { fprintf(stderr, "ember convert: too many arguments\n"); usage(stderr); return 2; }
        pos[npos++] = a;
    }
    if (npos != 2) { usage(stderr); return 2; }
    opt.hf_dir = pos[0];
    opt.out_path = pos[1];
    char err[1024];
    convert_summary s;
    if (convert_hf_to_gguf(&opt, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ember convert: %s\n", err);
        return 1;
    }
    if (opt.vocab_only)
        printf("wrote %s: %s tokenizer only, %u tokens\n", opt.out_path, s.arch, s.n_vocab);
    else
        printf("wrote %s: %s, %u tensors, %llu parameters (%s), %u tokens, pooling %s%s, max_seq_length %u\n", opt.out_path,
               s.arch, s.n_tensors, (unsigned long long)s.n_params, opt.dtype == CONVERT_F16 ? "f16" : opt.dtype == CONVERT_BF16 ? "bf16" : "f32", s.n_vocab,
               pool_name(s.pooling), s.normalize ? " + normalize" : "", s.max_seq_length);
    return 0;
}
