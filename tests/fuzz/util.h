/* Shared by the libFuzzer harnesses: the readers under test take paths, so
 * each input goes through a file in a private scratch folder. */
#ifndef EMBER_TESTS_FUZZ_UTIL_H
#define EMBER_TESTS_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* The process's scratch folder under $TMPDIR (or /tmp), made on first use
 * and removed at exit. */
const char *fuzz_tmpdir(void);
/* Writes fuzz_tmpdir()/name into out. */
void fuzz_tmp_path(char *out, size_t cap, const char *name);
/* Whole-file write; aborts on failure (the harness, not the code under test, broke). */
void fuzz_write_file(const char *path, const void *data, size_t size);
/* Copies the regular files of src (and of its sub-folders) into dst; aborts on failure. */
void fuzz_copy_tree(const char *src, const char *dst);
/* A property of the code under test does not hold: says which on stdout
 * (stderr may be closed by -close_fd_mask) and aborts so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...) do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
void fuzz_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
#endif
