/* Where the shared fixtures are: $EMBER_FIXTURES, default ../shared/fixtures. */
#ifndef EMBER_TESTS_FIXTURES_H
#define EMBER_TESTS_FIXTURES_H
#include <stddef.h>
/* Writes <fixtures>/<rel> into buf; returns 1 if it exists, else prints why
 * the test will be skipped and returns 0. */
int fixture_path(char *buf, size_t cap, const char *rel);
/* Whole file into a malloc'd, NUL-terminated buffer; NULL if unreadable. */
char *test_slurp(const char *path, size_t *len);
/* A fresh temporary directory for this test process (removed at exit). */
const char *test_tmpdir(void);
/* Entries of dir whose names start with prefix; -1 when dir cannot be read. */
int test_count_prefixed(const char *dir, const char *prefix);
#endif
