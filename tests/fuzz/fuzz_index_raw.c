/* libFuzzer harness: index files as they come, checksums included (every
 * mutation of a checksummed byte is refused: this one covers the checks in
 * front of them). */
#define FUZZ_INDEX_RAW 1
#include "tests/fuzz/fuzz_index.c"
