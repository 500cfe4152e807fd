/* ember — command-line entry point: dispatches to one subcommand. */
#include "ember.h"
#include "tools/commands.h"

#include <stdio.h>
#include <string.h>

static const char *USAGE =
    "ember " EMBER_VERSION " — text embeddings, reranking and vector search in C\n"
    "\n"
    "usage: ember <command> [options]   (ember <command> --help for details)\n"
    "\n"
    "  convert   HuggingFace checkpoint folder -> GGUF model file\n"
    "  info      describe a GGUF model file\n"
    "  tokenize  text -> token ids, as the model's HuggingFace tokenizer\n"
    "  embed     texts -> embeddings (JSONL, .npy or raw f32)\n"
    "  rerank    score documents against a query with a cross-encoder\n"
    "  index     build | add | info: a vector index of embedded documents\n"
    "  search    query an index, optionally reranking with a cross-encoder\n"
    "\n"
    "Environment: EMBER_THREADS (threads), EMBER_ISA=scalar|avx2|avx512|avx512vnni|avx512bf16|amxbf16|neon (force a\n"
    "kernel path; emu4|emu8|emu16: the portable emulated ones, for debugging), EMBER_BF16_DOT=1 (bf16 weights\n"
    "times activations rounded to bf16 where the CPU has AVX-512-BF16: less exact; faster with AMX).\n";

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
        {"convert", cmd_convert}, {"info", cmd_info}, {"tokenize", cmd_tokenize},
        {"embed", cmd_embed}, {"rerank", cmd_rerank}, {"index", cmd_index}, {"search", cmd_search},
    };
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { puts("ember " EMBER_VERSION); return 0; }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) {
            /* the library keeps quiet: an EMBER_ISA it could not honour is said here, once */
            const char *note = ember_isa_note();
            if (note) fprintf(stderr, "ember: %s\n", note);
            return cmds[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "ember: unknown command '%s'\n\n%s", argv[1], USAGE);
    return 2;
}
