/* Replace-by-rename writes: a uniquely named temporary beside the
 * destination (so rename stays within one filesystem), fsynced, renamed,
 * and the directory fsynced so the new name survives a power cut. */
#include "sys/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_MARK ".tmp-"
#define TMP_HEX 16

static void say(char *err, size_t errlen, const char *what, const char *path, int e)
{
    if (err && errlen) snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
}

static uint64_t random64(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) return r;
    /* no entropy yet (early boot): time, pid and a stack address differ between tries */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&r;
    return r;
}

int sys_atomic_begin(sys_atomic_file *f, const char *path, char *err, size_t errlen)
{
    f->fd = -1;
    f->tmp[0] = '\0';
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path ||
        strlen(path) + strlen(TMP_MARK) + TMP_HEX >= sizeof f->tmp) {
        say(err, errlen, "cannot create", path, ENAMETOOLONG);
        return -1;
    }
    for (int tries = 0; tries < 64; tries++) {
        snprintf(f->tmp, sizeof f->tmp, "%s" TMP_MARK "%016llx", path, (unsigned long long)random64());
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f->fd >= 0) return 0;
        if (errno != EEXIST) break;
    }
    int e = errno;
    f->tmp[0] = '\0';
    say(err, errlen, "cannot create", path, e);
    return -1;
}

int sys_atomic_write(sys_atomic_file *f, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        ssize_t k = write(f->fd, c, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

void sys_atomic_abort(sys_atomic_file *f)
{
    int e = errno;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp[0]) unlink(f->tmp);
    f->tmp[0] = '\0';
    errno = e;
}

/* fsync of the directory holding path: the rename itself is then durable */
static int sync_dir(const char *path)
{
    char dir[SYS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    /* filesystems that cannot sync a directory say EINVAL: nothing more to do there */
    if (r != 0 && errno == EINVAL) r = 0;
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int sys_atomic_commit(sys_atomic_file *f, int failed, char *err, size_t errlen)
{
    int e = errno;
    if (!failed && fsync(f->fd) != 0) { failed = 1; e = errno; }
    if (close(f->fd) != 0 && !failed) { failed = 1; e = errno; }
    f->fd = -1;
    if (!failed && rename(f->tmp, f->path) != 0) { failed = 1; e = errno; }
    if (failed) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
        say(err, errlen, "cannot write", f->path, e);
        return -1;
    }
    f->tmp[0] = '\0';
    if (sync_dir(f->path) != 0) {
        say(err, errlen, "cannot sync the directory of", f->path, errno);
        return -1;
    }
    return 0;
}

static int is_tmp_name(const char *name, const char *base)
{
    size_t bl = strlen(base), ml = strlen(TMP_MARK);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, TMP_MARK, ml) != 0) return 0;
    const char *h = name + bl + ml;
    for (int i = 0; i < TMP_HEX; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
    return h[TMP_HEX] == '\0';
}

int sys_atomic_sweep(const char *path)
{
    char dir[SYS_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return 0;
    char *slash = strrchr(dir, '/');
    const char *base = path;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else {
        base = path + (slash - dir) + 1;
        if (slash == dir) dir[1] = '\0';
        else *slash = '\0';
    }
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0, dfd = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!is_tmp_name(de->d_name, base)) continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (unlinkat(dfd, de->d_name, 0) == 0) removed++;
    }
    closedir(d);
    return removed;
}

int sys_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
