/* ember embed: texts in, one embedding per text out (JSONL, .npy or raw f32). */
#include "ember.h"
#include "tools/cli_common.h"
#include "tools/cli_embed.h"
#include "tools/commands.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: ember embed -m MODEL.gguf [-i FILE|-] [options]\n"
    "\n"
    "Embeds one text per input line (or per JSONL record with a \"text\" field)\n"
    "and writes one vector per text, in input order.\n"
    "\n"
    "  -m, --model FILE        embedding model (GGUF, from `ember convert`)\n"
    "  -i, --input FILE        input file, '-' for stdin (default)\n"
    "      --input-format F    lines (default) | jsonl\n"
    "  -o, --output FILE       output file (default stdout)\n"
    "      --format F          jsonl (default): {\"index\": i, \"embedding\": [...]}\n"
    "                          npy: NumPy float32 array (n, dim); f32: raw little-endian floats\n"
    "      --no-normalize      skip L2 normalisation\n"
    "      --query             the texts are queries: write each into the model's query\n"
    "                          prompt (Qwen3-Embedding: \"Instruct: {task}\\nQuery:{text}\"\n"
    "                          with its default task; multilingual-e5: \"query: {text}\");\n"
    "                          without it each text is a document, written into the\n"
    "                          model's document prompt when it has one\n"
    "                          (multilingual-e5: \"passage: {text}\")\n"
    "      --instruct TASK     --query with this task instead of the model's default\n"
    "      --prefix TEXT       put TEXT before each input instead of the model's query or\n"
    "                          document prompt (\"\": embed the texts as they are)\n"
    "      --dims N            Matryoshka: keep the first N dimensions (re-normalised)\n"
    "      --batch N           texts per forward pass (default 32)\n"
    "      --max-length N      longest input in tokens, specials included (default: the\n"
    "                          model's)\n"
    "      --long MODE         a text longer than that: truncate (default: cut to fit)\n"
    "                          or sliding (overlapping windows of the longest length\n"
    "                          that fits, a quarter of each shared with the next, each\n"
    "                          embedded as a text; the text's vector is their mean)\n"
    "  -t, --threads N         threads (default: EMBER_THREADS or all cores)\n"
    "  -h, --help              this text\n";

static void write_npy_header(FILE *f, int n, int d)
{
    char hdr[128];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d);
    int total = 10 + len + 1, pad = (64 - total % 64) % 64;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    uint16_t hl = (uint16_t)(len + pad + 1);
    unsigned char b[2] = { (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8) };
    fwrite(b, 1, 2, f);
    fwrite(hdr, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
}

/* Where the vectors go, and how. */
/* --dims: a warning when the model was not trained for that cut (its
 * ember.matryoshka.* keys); the cut is made anyway */
static void matryoshka_note(const ember_model_info *in, const char *model, int dims)
{
    char list[400] = "";
    size_t n = 0;
    for (int i = 0; i < in->n_matryoshka_dims; i++) {
        if ((int)in->matryoshka_dims[i] == dims) return;
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%u", i ? ", " : "", in->matryoshka_dims[i]);
        if (n >= sizeof list) break;
    }
    if (in->n_matryoshka_dims)
        fprintf(stderr, "ember embed: warning: --dims %d is not one of the dimensions %s was trained for (%s)\n", dims,
                model, list);
    else if (in->matryoshka_min_dim && dims < in->matryoshka_min_dim)
        fprintf(stderr, "ember embed: warning: --dims %d is below the %d dimensions %s was trained to keep at least\n",
                dims, in->matryoshka_min_dim, model);
    else if (!in->matryoshka_min_dim)
        fprintf(stderr, "ember embed: warning: %s declares no Matryoshka training (ember convert --matryoshka-dims); "
                "its first %d dimensions may not make a good embedding\n", model, dims);
}

typedef struct { FILE *out; const char *format; int normalize, d_out, dim, dims; } writer;

static int write_rows(void *user, int i0, int nb, float *rows)
{
    writer *w = user;
    for (int j = 0; j < nb; j++) {
        float *v = rows + (size_t)j * w->dim;
        if (w->dims && w->normalize) ember_l2_normalize(v, w->d_out);
        if (!strcmp(w->format, "jsonl")) {
            fprintf(w->out, "{\"index\": %d, \"embedding\": [", i0 + j);
            for (int k = 0; k < w->d_out; k++) {
                if (k) fputs(", ", w->out);
                cli_json_float(w->out, v[k]);
            }
            fputs("]}\n", w->out);
        } else {
            fwrite(v, sizeof(float), (size_t)w->d_out, w->out);
        }
    }
    return 0;
}

int cmd_embed(int argc, char **argv)
{
    const char *model = NULL, *input = "-", *output = NULL, *format = "jsonl";
    cli_input_format ifmt = CLI_IN_LINES;
    int normalize = 1, batch = 32, threads = 0, dims = 0, max_len = 0, query = 0;
    const char *task = NULL, *prefix = NULL;
    ember_long_mode long_mode = EMBER_LONG_TRUNCATE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(USAGE, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!v) goto missing; model = v; i++; }
        else if (!strcmp(a, "-i") || !strcmp(a, "--input")) { if (!v) goto missing; input = v; i++; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { if (!v) goto missing; output = v; i++; }
        else if (!strcmp(a, "--input-format")) { if (cli_parse_input_format(v, &ifmt)) return 2; i++; }
        else if (!strcmp(a, "--format")) { if (!v) goto missing; format = v; i++; }
        else if (!strcmp(a, "--no-normalize")) normalize = 0;
        else if (!strcmp(a, "--query")) query = 1;
        else if (!strcmp(a, "--instruct")) { if (!v) goto missing; task = v; query = 1; i++; }
        else if (!strcmp(a, "--prefix")) { if (!v) goto missing; prefix = v; i++; }
        else if (!strcmp(a, "--dims")) { if (cli_parse_int(a, v, 1, 1 << 20, &dims)) return 2; i++; }
        else if (!strcmp(a, "--batch")) { if (cli_parse_int(a, v, 1, 4096, &batch)) return 2; i++; }
        else if (!strcmp(a, "--max-length")) { if (cli_parse_int(a, v, 1, 1 << 20, &max_len)) return 2; i++; }
        else if (!strcmp(a, "--long")) { if (cli_parse_long("embed", v, &long_mode)) return 2; i++; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (cli_parse_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else { cli_err("embed: unknown option '%s' (see ember embed --help)", a); return 2; }
        continue;
    missing:
        cli_err("embed: %s needs a value", a);
        return 2;
    }
    if (!model) { cli_err("embed: -m MODEL.gguf is required (see ember embed --help)"); return 2; }
    if (strcmp(format, "jsonl") && strcmp(format, "npy") && strcmp(format, "f32")) {
        cli_err("embed: --format must be jsonl, npy or f32");
        return 2;
    }

    cli_embedder e;
    if (cli_embedder_open(&e, "embed", model, batch, max_len, threads, long_mode, prefix) != 0) return 1;
    if (dims > e.info.dim) {
        cli_err("embed: --dims %d exceeds the model's %d dimensions", dims, e.info.dim);
        cli_embedder_close(&e);
        return 2;
    }
    if (dims && dims < e.info.dim) matryoshka_note(&e.info, model, dims);
    int rc = 1;
    char where[300];
    if (query && !prefix && !e.info.query_prompt)
        fprintf(stderr, "ember embed: note: %s has no query prompt; --query / --instruct change nothing\n", model);
    if (task && prefix)
        fprintf(stderr, "ember embed: note: --prefix replaces the query prompt that --instruct writes its task into\n");
    if (task && ember_ctx_set_instruction(e.c, task) != EMBER_OK) { cli_err("embed: --instruct: %s", ember_ctx_error(e.c)); goto done; }
    cli_inputs in;
    writer w = { stdout, format, normalize, dims ? dims : e.info.dim, e.info.dim, dims };
    if (cli_inputs_read(input, ifmt, &in) != 0) goto done;
    for (int i = 0; i < in.n; i++)
        if (in.pair[i]) {
            cli_err("embed: %s: this input has a text_pair; pairs are for ember rerank/tokenize", cli_input_where(&in, i, where, sizeof where));
            goto done_in;
        }
    if (output && !(w.out = fopen(output, "wb"))) { cli_err("cannot write %s", output); w.out = stdout; goto done_in; }
    if (!strcmp(format, "npy")) write_npy_header(w.out, in.n, w.d_out);
    double t0 = cli_now();
    if (cli_embed_inputs(&e, "embed", "text", &in, (normalize ? 0 : EMBER_EMBED_NO_NORMALIZE) | (query ? EMBER_EMBED_QUERY : 0),
                         NULL, write_rows, &w) != 0) goto done_in;
    if (getenv("EMBER_VERBOSE"))
        fprintf(stderr, "ember: embedded %d texts in %.3f s (%d threads)\n", in.n, cli_now() - t0, ember_ctx_threads(e.c));
    if (fflush(w.out) != 0 || ferror(w.out)) { cli_err("embed: error writing output"); goto done_in; }
    rc = 0;
done_in:
    if (w.out != stdout) fclose(w.out);
    cli_inputs_free(&in);
done:
    cli_embedder_close(&e);
    return rc;
}
