/* The ember subcommands: each takes argv from its own name on and returns the
 * process exit code (0 ok, 1 failure, 2 usage error). */
#ifndef EMBER_TOOLS_COMMANDS_H
#define EMBER_TOOLS_COMMANDS_H
int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_rerank(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_search(int argc, char **argv);
#endif
