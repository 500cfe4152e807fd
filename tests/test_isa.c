/* EMBER_ISA: the kernel table it chooses, the note the library keeps when it
 * cannot honour it (never printed by the library), and the CLI showing that
 * note once on stderr.  The choice is made once per process, so each case
 * of the API runs in a child forked before anything here chose a table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ember.h"
#include "kernels/kernels.h"

/* In a child, with EMBER_ISA = isa (NULL: unset): ember_isa() must be
 * want_isa (NULL: a real ISA, not an emulated one), ember_isa_note() must
 * contain want_note (NULL: no note), and nothing may reach stderr. */
static void check_choice(const char *isa, const char *want_isa, const char *want_note)
{
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (isa) setenv("EMBER_ISA", isa, 1);
        else unsetenv("EMBER_ISA");
        FILE *err = tmpfile(); /* stderr, to see that the library wrote nothing there */
        if (!err || dup2(fileno(err), 2) < 0) _exit(2);
        const char *got = ember_isa(), *note = ember_isa_note();
        fflush(stderr);
        int ok = lseek(2, 0, SEEK_END) == 0;
        if (want_isa ? strcmp(got, want_isa) != 0 : strncmp(got, "emu", 3) == 0) ok = 0;
        if (want_note ? !note || !strstr(note, want_note) : note != NULL) ok = 0;
        /* the table in use is the one named, and the note names it */
        if (strcmp(kern_ops_get()->name, got) != 0 || (note && !strstr(note, got))) ok = 0;
        if (!ok) printf("EMBER_ISA=%s: ember_isa() = %s, note: %s\n", isa ? isa : "(unset)", got, note ? note : "(none)");
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("EMBER_ISA=%s: wrong choice or note (above)", isa ? isa : "(unset)");
}

static void test_isa_note_api(void **s)
{
    (void)s;
    check_choice(NULL, NULL, NULL);
    check_choice("", NULL, NULL);
    check_choice("bogus", NULL, "unknown EMBER_ISA=bogus (scalar, avx2, avx512, avx512vnni, avx512bf16, neon, amxbf16, emu4, emu8, emu16); using ");
    check_choice("scalar", "scalar", NULL);
    check_choice("emu4", "emu4", NULL);
    check_choice("emu16", "emu16", NULL);
    /* an ISA this machine lacks: NEON on x86, AVX2 elsewhere */
    for (int i = 1; i < KERN_ISA_FIRST_EMU; i++) {
        const char *name = kern_isa_name((kern_isa)i);
        char want[128];
        snprintf(want, sizeof want, "EMBER_ISA=%s is not supported on this CPU; using ", name);
        if (kern_ops_for((kern_isa)i)) check_choice(name, name, NULL);
        else check_choice(name, NULL, want);
    }
}

static const char *bin(void)
{
    const char *b = getenv("EMBER_BIN");
    return b && *b ? b : "build/ember";
}

/* `env ember info /nonexistent.gguf` with stderr: the exit code, output in out */
static int run_cli(const char *env, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s info /nonexistent.gguf 2>&1", env, bin());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_isa_note_cli(void **s)
{
    (void)s;
    char out[4096];
    assert_int_equal(run_cli("EMBER_ISA=bogus", out, sizeof out), 1);
    const char *note = strstr(out, "ember: unknown EMBER_ISA=bogus (");
    if (!note) fail_msg("no note on stderr: %s", out);
    assert_null(strstr(note + 1, "ember: unknown EMBER_ISA")); /* once */
    assert_non_null(strstr(out, "/nonexistent.gguf")); /* and the command still ran */
    assert_int_equal(run_cli("EMBER_ISA=emu8", out, sizeof out), 1);
    assert_null(strstr(out, "EMBER_ISA"));
    assert_int_equal(run_cli("env -u EMBER_ISA", out, sizeof out), 1);
    assert_null(strstr(out, "EMBER_ISA"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_note_api),
        cmocka_unit_test(test_isa_note_cli),
    };
    return cmocka_run_group_tests_name("isa", tests, NULL, NULL);
}
