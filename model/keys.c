/* Reading model keys: every integer is range-checked in 64 bits before it is
 * narrowed, and a key of the wrong type is an error, never a silent default
 * (a corrupt value must not turn into a plausible-looking one). */
#include "model/model.h"

#include <stdio.h>

int model_key_u32(const gguf_file *f, const char *key, uint32_t lo, uint32_t hi, int required,
                  uint32_t def, uint32_t *v, char *err, size_t errlen)
{
    uint64_t u;
    int rc = gguf_get_uint(f, key, &u);
    if (rc == -1) {
        if (required) return snprintf(err, errlen, "missing key %s", key), -1;
        *v = def;
        return 0;
    }
    if (rc != 0) return snprintf(err, errlen, "key %s must be a non-negative integer", key), -1;
    if (u < lo || u > hi)
        return snprintf(err, errlen, "key %s is %llu; ember accepts %u..%u", key, (unsigned long long)u, lo, hi), -1;
    *v = (uint32_t)u;
    return 0;
}

int model_key_bool(const gguf_file *f, const char *key, int def, int *v, char *err, size_t errlen)
{
    int rc = gguf_get_bool(f, key, v);
    if (rc == -1) { *v = def; return 0; }
    if (rc != 0) return snprintf(err, errlen, "key %s must be a bool", key), -1;
    return 0;
}
