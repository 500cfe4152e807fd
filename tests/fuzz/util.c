#include "tests/fuzz/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[4096];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void tmpdir_remove(void)
{
    if (tmpdir[0]) nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
    if (tmpdir[0]) return tmpdir;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ember-fuzz-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) { fprintf(stderr, "fuzz: cannot create %s: %s\n", tmpdir, strerror(errno)); abort(); }
    atexit(tmpdir_remove);
    return tmpdir;
}

void fuzz_tmp_path(char *out, size_t cap, const char *name)
{
    if ((size_t)snprintf(out, cap, "%s/%s", fuzz_tmpdir(), name) >= cap) abort();
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
    /* rewritten in place and cut to size: ext4 flushes a file truncated to
     * zero and rewritten when it is closed, which made every run wait on the disk */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno)); abort(); }
    const char *p = data;
    size_t left = size;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno)); abort(); }
        p += k;
        left -= (size_t)k;
    }
    if (ftruncate(fd, (off_t)size) != 0) { fprintf(stderr, "fuzz: cannot truncate %s: %s\n", path, strerror(errno)); abort(); }
    close(fd);
}

void fuzz_copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d) { fprintf(stderr, "fuzz: cannot read %s: %s\n", src, strerror(errno)); abort(); }
    if (mkdir(dst, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "fuzz: cannot create %s: %s\n", dst, strerror(errno)); abort(); }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dst, e->d_name);
        struct stat sb;
        if (stat(from, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) { fuzz_copy_tree(from, to); continue; }
        if (!S_ISREG(sb.st_mode)) continue;
        FILE *f = fopen(from, "rb");
        char *buf = malloc((size_t)sb.st_size + 1);
        if (!f || !buf || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) { fprintf(stderr, "fuzz: cannot read %s\n", from); abort(); }
        fclose(f);
        fuzz_write_file(to, buf, (size_t)sb.st_size);
        free(buf);
    }
    closedir(d);
}

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FUZZ CHECK FAILED at %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    abort();
}
