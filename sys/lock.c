/* Writers of one file take turns through flock on a lock file beside it.
 * The file itself cannot carry the lock: it is replaced by rename, so a
 * writer waiting on the old inode would get it after the new one exists
 * and then write over what the first writer added. */
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int sys_lock_acquire(sys_lock *l, const char *path, int wait, char *err, size_t errlen)
{
    char lp[SYS_PATH_MAX];
    l->fd = -1;
    if (snprintf(lp, sizeof lp, "%s.lock", path) >= (int)sizeof lp) {
        if (err && errlen) snprintf(err, errlen, "cannot lock %s: %s", path, strerror(ENAMETOOLONG));
        return SYS_LOCK_ERROR;
    }
    /* read-only is enough for flock, and works on a lock file another user created */
    int fd = open(lp, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (err && errlen) snprintf(err, errlen, "cannot create the lock file %s: %s", lp, strerror(errno));
        return SYS_LOCK_ERROR;
    }
    int r;
    while ((r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) != 0 && errno == EINTR) {}
    if (r != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) return SYS_LOCK_BUSY;
        if (err && errlen) snprintf(err, errlen, "cannot lock %s: %s", lp, strerror(e));
        return SYS_LOCK_ERROR;
    }
    l->fd = fd;
    return SYS_LOCK_HELD;
}

void sys_lock_release(sys_lock *l)
{
    if (l->fd >= 0) close(l->fd); /* closing the only descriptor drops the flock */
    l->fd = -1;
}
