/* sys/: the atomic replace-by-rename writer and the writers' lock, alone
 * and under the two writers that use them (index files, GGUF files). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ember.h"
#include "index/index.h"
#include "model/gguf.h"
#include "sys/sys.h"
#include "tests/fixtures.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_file_is(const char *path, const char *text)
{
    size_t len;
    char *got = test_slurp(path, &len);
    if (!got) fail_msg("%s: unreadable", path);
    if (len != strlen(text) || memcmp(got, text, len)) fail_msg("%s holds '%s', not '%s'", path, got, text);
    free(got);
}

/* A fresh directory under the test's temporary one. */
static const char *subdir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", test_tmpdir(), name);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static void test_atomic_file(void **s)
{
    (void)s;
    const char *d = subdir("atomic");
    char path[1024], old_tmp[1100], victim[1100], err[512];
    snprintf(path, sizeof path, "%s/out.bin", d);
    snprintf(old_tmp, sizeof old_tmp, "%s.tmp", path);
    snprintf(victim, sizeof victim, "%s/victim.txt", d);
    write_text(victim, "keep");
    write_text(path, "old");
    /* a symlink where writers used to put their temporary is never followed */
    assert_int_equal(symlink(victim, old_tmp), 0);
    sys_atomic_file f;
    assert_int_equal(sys_atomic_begin(&f, path, err, sizeof err), 0);
    assert_int_equal(strncmp(f.tmp, path, strlen(path)), 0);
    assert_int_equal(sys_atomic_write(&f, "new", 3), 0);
    assert_file_is(path, "old"); /* not replaced before the commit */
    assert_int_equal(sys_atomic_commit(&f, 0, err, sizeof err), 0);
    assert_file_is(path, "new");
    assert_file_is(victim, "keep");
    struct stat st;
    assert_int_equal(lstat(old_tmp, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(test_count_prefixed(d, "out.bin.tmp-"), 0);
    /* a failure reported by the caller, and an abort: the old file stays, no temporary */
    assert_int_equal(sys_atomic_begin(&f, path, err, sizeof err), 0);
    assert_int_equal(sys_atomic_write(&f, "half", 4), 0);
    errno = ENOSPC;
    assert_int_equal(sys_atomic_commit(&f, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write"));
    assert_non_null(strstr(err, strerror(ENOSPC)));
    assert_int_equal(sys_atomic_begin(&f, path, err, sizeof err), 0);
    sys_atomic_abort(&f);
    assert_file_is(path, "new");
    assert_int_equal(test_count_prefixed(d, "out.bin.tmp-"), 0);
    /* no directory: refused with the path */
    char nodir[1100];
    snprintf(nodir, sizeof nodir, "%s/none/x.bin", d);
    assert_int_equal(sys_atomic_begin(&f, nodir, err, sizeof err), -1);
    assert_non_null(strstr(err, nodir));
    /* sweep removes what a killed writer left (regular files so named) and nothing else */
    char left[1100], other[1100], lnk[1100];
    snprintf(left, sizeof left, "%s.tmp-0123456789abcdef", path);
    snprintf(other, sizeof other, "%s.tmp-notmine", path);
    snprintf(lnk, sizeof lnk, "%s.tmp-fedcba9876543210", path);
    write_text(left, "stale");
    write_text(other, "x");
    assert_int_equal(symlink(victim, lnk), 0);
    assert_int_equal(sys_atomic_sweep(path), 1);
    assert_int_equal(access(left, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(lstat(lnk, &st), 0);
    assert_file_is(victim, "keep");
}

static void test_lock(void **s)
{
    (void)s;
    const char *d = subdir("lock");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/x.emb", d);
    sys_lock a, b;
    assert_int_equal(sys_lock_acquire(&a, path, 0, err, sizeof err), SYS_LOCK_HELD);
    /* flock locks belong to open files: a second one conflicts, even in this process */
    assert_int_equal(sys_lock_acquire(&b, path, 0, err, sizeof err), SYS_LOCK_BUSY);
    sys_lock_release(&a);
    assert_int_equal(sys_lock_acquire(&b, path, 0, err, sizeof err), SYS_LOCK_HELD);
    sys_lock_release(&b);
    sys_lock_release(&b); /* twice is harmless */
    char nodir[1100];
    snprintf(nodir, sizeof nodir, "%s/none/x.emb", d);
    assert_int_equal(sys_lock_acquire(&a, nodir, 0, err, sizeof err), SYS_LOCK_ERROR);
    assert_non_null(strstr(err, "lock file"));
    /* same file: by inode, so a link or another spelling is caught */
    char alias[1100], other[1100];
    write_text(path, "x");
    snprintf(alias, sizeof alias, "%s/./alias.emb", d);
    snprintf(other, sizeof other, "%s/other.emb", d);
    assert_int_equal(link(path, alias), 0);
    write_text(other, "x");
    assert_int_equal(sys_same_file(path, alias), 1);
    assert_int_equal(sys_same_file(path, other), 0);
    assert_int_equal(sys_same_file(path, nodir), 0);
}

/* A write that fails half way (the file size limit): the old file stays
 * and no temporary is left, for both writers. */
static void with_small_file_limit(int on)
{
    static struct rlimit saved;
    if (on) {
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
        struct rlimit r = saved;
        r.rlim_cur = 4096;
        signal(SIGXFSZ, SIG_IGN); /* write then fails with EFBIG instead of killing */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
    } else {
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
        signal(SIGXFSZ, SIG_DFL);
    }
}

static void test_index_and_gguf_writers(void **s)
{
    (void)s;
    const char *d = subdir("writers");
    char idx[1024], gg[1024], tmp[1100], victim[1100], err[512];
    snprintf(idx, sizeof idx, "%s/x.emb", d);
    snprintf(gg, sizeof gg, "%s/m.gguf", d);
    snprintf(victim, sizeof victim, "%s/victim.txt", d);
    write_text(victim, "keep");
    /* the index writer */
    emb_index *x = idx_create(IDX_FLAT, IDX_L2, IDX_F32, 64, NULL, err, sizeof err);
    float v[64 * 64];
    int64_t ids[64];
    for (int i = 0; i < 64 * 64; i++) v[i] = (float)(i % 7);
    for (int i = 0; i < 64; i++) ids[i] = i;
    assert_int_equal(idx_add(x, v, ids, NULL, 1, 1, err, sizeof err), 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", idx);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(idx_save(x, idx, err, sizeof err), 0);
    assert_file_is(victim, "keep");
    assert_int_equal(idx_add(x, v + 64, ids + 1, NULL, 63, 1, err, sizeof err), 0); /* 16 KB: over the limit */
    with_small_file_limit(1);
    int r = idx_save(x, idx, err, sizeof err);
    with_small_file_limit(0);
    assert_int_equal(r, IDX_ERR_IO);
    if (!strstr(err, "cannot write")) fail_msg("'%s'", err);
    idx_free(x);
    x = idx_open(idx, err, sizeof err);
    if (!x) fail_msg("the old index is gone: %s", err);
    idx_info info;
    idx_get_info(x, &info);
    assert_int_equal(info.count, 1);
    idx_free(x);
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp-"), 0);
    /* the GGUF writer */
    snprintf(tmp, sizeof tmp, "%s.tmp", gg);
    assert_int_equal(symlink(victim, tmp), 0);
    /* tiny: written whole; with a 16 KB tensor under the limit: refused, old file kept */
    uint64_t ne[1] = {4096};
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "test.value", 7), 0);
    assert_int_equal(gguf_writer_write(w, gg, err, sizeof err), 0);
    gguf_writer_free(w);
    assert_file_is(victim, "keep");
    size_t small;
    char *img = test_slurp(gg, &small);
    assert_non_null(img);
    free(img);
    static float big[4096];
    w = gguf_writer_new();
    assert_int_equal(gguf_writer_add_tensor(w, "t", GGML_TYPE_F32, 1, ne, big, 0), 0);
    with_small_file_limit(1);
    r = gguf_writer_write(w, gg, err, sizeof err);
    with_small_file_limit(0);
    gguf_writer_free(w);
    assert_int_equal(r, -1);
    if (!strstr(err, "cannot write")) fail_msg("'%s'", err);
    size_t now;
    img = test_slurp(gg, &now);
    assert_non_null(img);
    free(img);
    assert_int_equal(now, small);
    assert_int_equal(test_count_prefixed(d, "m.gguf.tmp-"), 0);
    assert_file_is(victim, "keep");
}

/* A writer killed in the middle of writing (not before it starts, as the
 * CLI's kill -9 test mostly lands): the child's save is stopped by SIGXFSZ,
 * whose default action ends the process at once like SIGKILL, after exactly
 * the bytes the file size limit allows.  The old index opens whole, the
 * partial temporary is left, and the next writer's lock sweeps it. */
static void test_killed_mid_write(void **s)
{
    (void)s;
    const char *d = subdir("midwrite");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/x.emb", d);
    enum { D = 64, NV = 256 };
    static float v[NV * D];
    int64_t ids[NV];
    for (int i = 0; i < NV * D; i++) v[i] = (float)(i % 13);
    for (int i = 0; i < NV; i++) ids[i] = i;
    ember_index *x = ember_index_create(EMBER_INDEX_FLAT, EMBER_METRIC_L2, EMBER_STORE_F32, D, NULL, err, sizeof err);
    assert_non_null(x);
    assert_int_equal(ember_index_add(x, v, ids, NULL, 1, 1), EMBER_OK);
    assert_int_equal(ember_index_save(x, path), EMBER_OK);
    assert_int_equal(ember_index_add(x, v + D, ids + 1, NULL, NV - 1, 1), EMBER_OK); /* 64 KB of vectors */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ember_index_lock *k;
        if (ember_index_lock_acquire(path, 1, &k, err, sizeof err) != EMBER_OK) _exit(3);
        struct rlimit r;
        getrlimit(RLIMIT_FSIZE, &r);
        r.rlim_cur = 8192;
        signal(SIGXFSZ, SIG_DFL);
        setrlimit(RLIMIT_FSIZE, &r);
        ember_index_save(x, path);
        _exit(4); /* not reached: the save is killed at byte 8192 */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGXFSZ) fail_msg("the writer was not killed mid-write (status 0x%x)", st);
    ember_index_free(x);
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp-"), 1); /* its partial temporary */
    char pat[1100];
    snprintf(pat, sizeof pat, "%s.tmp-*", path);
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    struct stat tst;
    assert_int_equal(stat(g.gl_pathv[0], &tst), 0);
    globfree(&g);
    assert_int_equal(tst.st_size, 8192); /* killed with the header and part of the vectors written */
    ember_index *y = ember_index_open(path, err, sizeof err);
    if (!y) fail_msg("the old index is gone: %s", err);
    ember_index_info info;
    ember_index_get_info(y, &info);
    assert_int_equal(info.count, 1);
    ember_index_free(y);
    ember_index_lock *k;
    assert_int_equal(ember_index_lock_acquire(path, 0, &k, err, sizeof err), EMBER_OK);
    assert_int_equal(test_count_prefixed(d, "x.emb.tmp-"), 0);
    ember_index_lock_release(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_file),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_index_and_gguf_writers),
        cmocka_unit_test(test_killed_mid_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
