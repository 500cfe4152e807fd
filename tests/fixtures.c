#include "tests/fixtures.h"

#include <dirent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fixture_path(char *buf, size_t cap, const char *rel)
{
    const char *root = getenv("EMBER_FIXTURES");
    if (!root || !*root) root = "../shared/fixtures";
    snprintf(buf, cap, "%s/%s", root, rel);
    if (access(buf, R_OK) == 0) return 1;
    fprintf(stderr, "SKIP: fixture %s not found (set EMBER_FIXTURES to the shared fixtures folder)\n", buf);
    return 0;
}

char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = '\0'; *len = (size_t)n; }
    return buf;
}

static char tmpdir[256];

static void tmpdir_cleanup(void)
{
    if (!tmpdir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/ember-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmpdir)) { tmpdir[0] = '\0'; return NULL; }
        atexit(tmpdir_cleanup);
    }
    return tmpdir;
}

int test_count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}
