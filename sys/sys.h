/* Operating-system primitives for the layers that write files (index/,
 * model/): replacing a file atomically by rename, and an advisory lock that
 * makes writers of one file take turns.  The bottom layer: it uses libc
 * only. */
#ifndef EMBER_SYS_SYS_H
#define EMBER_SYS_SYS_H

#include <stddef.h>

#define SYS_PATH_MAX 4096

/* A file written beside its destination and renamed over it when complete:
 * readers see the old file or the new one, never a part.  The temporary is
 * "<path>.tmp-" and 16 hex digits, created with O_CREAT | O_EXCL |
 * O_NOFOLLOW (mode 0644 less the umask), so nothing already at some name,
 * a symlink included, is opened or written through. */
typedef struct {
    int fd;
    char path[SYS_PATH_MAX];
    char tmp[SYS_PATH_MAX];
} sys_atomic_file;

/* 0, or -1 with "cannot create <path>: <why>" in err (may be NULL). */
int sys_atomic_begin(sys_atomic_file *f, const char *path, char *err, size_t errlen);
/* All n bytes at p, or -1 with errno set. */
int sys_atomic_write(sys_atomic_file *f, const void *p, size_t n);
/* fsync, close, rename over path, fsync the directory.  0, or -1 with
 * "cannot write <path>: <why>"; the temporary is removed on any failure
 * (failed: nonzero when an earlier write failed, errno saying why). */
int sys_atomic_commit(sys_atomic_file *f, int failed, char *err, size_t errlen);
/* Closes and removes the temporary (after a failure of the caller's own). */
void sys_atomic_abort(sys_atomic_file *f);
/* Removes temporaries of path that writers killed before their rename left
 * behind (regular files named as sys_atomic_begin names them).  Only safe
 * while holding path's writer lock: another writer's live temporary looks
 * the same.  Returns how many were removed. */
int sys_atomic_sweep(const char *path);

/* Exclusive advisory lock (flock) on "<path>.lock", created if absent and
 * left in place: only writers take it; readers of a file replaced by rename
 * never need it.  Released by sys_lock_release or when the process ends,
 * however it ends. */
typedef struct { int fd; } sys_lock;
enum { SYS_LOCK_HELD = 0, SYS_LOCK_BUSY = 1, SYS_LOCK_ERROR = -1 };
/* wait: block until the lock is free; otherwise SYS_LOCK_BUSY at once when
 * another process holds it.  SYS_LOCK_ERROR with the reason in err. */
int sys_lock_acquire(sys_lock *l, const char *path, int wait, char *err, size_t errlen);
void sys_lock_release(sys_lock *l);

/* 1 when a and b name the same file (device and inode), 0 when not or when
 * either does not exist. */
int sys_same_file(const char *a, const char *b);
#endif
