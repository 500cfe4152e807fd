/* Standard base64 (RFC 4648, padded), as tokenizer.json stores a
 * precompiled_charsmap. */
#ifndef EMBER_TOOLS_BASE64_H
#define EMBER_TOOLS_BASE64_H
#include <stddef.h>
#include <stdint.h>

/* Decodes s[0..n) into a malloc'd *out of *out_len bytes.  0, or -1 when s
 * is not padded base64 (or memory runs out), with *out NULL. */
int base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len);

#endif
