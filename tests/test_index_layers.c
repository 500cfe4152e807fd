/* index/ is layered as the map in index/index_internal.h draws it: every
 * call points down to a lower layer, none sideways or up, and the base and
 * the algorithms include only the headers of their layer and below.  The
 * calls are read from the built objects (nm), so a prototype written by
 * hand does not hide one.  Runs from the repository root; the objects are
 * those of the build that holds $EMBER_BIN (default build/). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* file (without .c) -> layer; a call must go to a lower layer */
static const struct { const char *file; int layer; } LAYER[] = {
    {"crc32_tables", 0},
    {"store", 1}, {"distance", 1}, {"scratch", 1}, {"progress", 1}, {"crc32", 1},
    {"kmeans", 2},
    {"hnsw", 3}, {"ivfpq", 3},
    {"index", 4}, {"search", 4},
    {"file", 5},
    {"index_api", 6},
};
#define N_FILES (sizeof LAYER / sizeof LAYER[0])

/* what the files below the orchestrator may include of index/ */
static const struct { const char *file; const char *headers; } INCLUDES[] = {
    {"crc32_tables", " crc32_tables.h "},
    {"store", " base.h "}, {"distance", " base.h "}, {"scratch", " base.h "}, {"progress", " base.h "},
    {"crc32", " base.h crc32_tables.h "},
    {"kmeans", " kmeans.h "},
    {"hnsw", " hnsw.h "}, {"ivfpq", " ivfpq.h kmeans.h "},
};

static int layer_of(const char *file)
{
    for (size_t i = 0; i < N_FILES; i++)
        if (!strcmp(LAYER[i].file, file)) return LAYER[i].layer;
    return -1;
}

typedef struct { char file[64]; char sym[256]; int defined; } sym_row;

/* The global symbols of every index/ object: defined, or used undefined. */
static int read_symbols(const char *objdir, sym_row **rows, int *n)
{
    DIR *d = opendir(objdir);
    if (!d) return -1;
    int cap = 4096, objects = 0;
    *rows = malloc(sizeof **rows * (size_t)cap);
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 3 || strcmp(de->d_name + l - 2, ".o")) continue;
        char cmd[2048], line[512];
        snprintf(cmd, sizeof cmd, "nm -P '%s/%s' 2>/dev/null", objdir, de->d_name);
        FILE *p = popen(cmd, "r");
        if (!p) continue;
        int got = 0;
        while (fgets(line, sizeof line, p)) {
            char name[256], type[8];
            if (sscanf(line, "%255s %7s", name, type) != 2) continue;
            int def = strchr("TDBRCGSV", type[0]) != NULL, und = type[0] == 'U';
            if (!def && !und) continue; /* locals (lowercase) */
            if (*n == cap) *rows = realloc(*rows, sizeof **rows * (size_t)(cap *= 2));
            sym_row *r = &(*rows)[(*n)++];
            snprintf(r->file, sizeof r->file, "%.*s", (int)(l - 2), de->d_name);
            snprintf(r->sym, sizeof r->sym, "%s", name);
            r->defined = def;
            got = 1;
        }
        objects += pclose(p) == 0 && got;
    }
    closedir(d);
    return objects;
}

/* The calls that break the layering, one line each into report; how many. */
static int bad_calls(const sym_row *rows, int n, char *report, size_t cap)
{
    int bad = 0;
    size_t used = 0;
    report[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (rows[i].defined) continue;
        for (int j = 0; j < n; j++) {
            if (!rows[j].defined || strcmp(rows[i].sym, rows[j].sym) || !strcmp(rows[i].file, rows[j].file)) continue;
            int from = layer_of(rows[i].file), to = layer_of(rows[j].file);
            if (from >= 0 && to >= 0 && to < from) continue;
            bad++;
            if (used < cap)
                used += (size_t)snprintf(report + used, cap - used, "  %s.c calls %s of %s.c (%s)\n", rows[i].file, rows[i].sym,
                                         rows[j].file, from < 0 || to < 0 ? "not on the map" : "not a lower layer");
        }
    }
    return bad;
}

static const char *objdir(char *buf, size_t cap)
{
    const char *b = getenv("EMBER_BIN");
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", b && *b ? b : "build/ember");
    snprintf(buf, cap, "%s/obj/index", dirname(tmp));
    return buf;
}

/* the check catches an upward call and a file missing from the map */
static void test_checker_catches_upward_calls(void **s)
{
    (void)s;
    sym_row rows[] = {
        {"distance", "idx_dist", 1}, {"hnsw", "idx_dist", 0}, {"hnsw", "hnsw_search", 1},
        {"index", "idx_add", 1}, {"search", "hnsw_search", 0},
    };
    char report[1024];
    assert_int_equal(bad_calls(rows, 5, report, sizeof report), 0);
    sym_row up[] = {{"distance", "idx_add", 0}, {"index", "idx_add", 1}, {"search", "idx_add", 0}, {"newfile", "idx_dist", 0},
                    {"distance", "idx_dist", 1}};
    assert_int_equal(bad_calls(up, 5, report, sizeof report), 3);
    assert_non_null(strstr(report, "distance.c calls idx_add of index.c (not a lower layer)"));
    assert_non_null(strstr(report, "search.c calls idx_add of index.c (not a lower layer)"));
    assert_non_null(strstr(report, "newfile.c calls idx_dist of distance.c (not on the map)"));
}

static void test_calls_point_down(void **s)
{
    (void)s;
    char dir[1100];
    sym_row *rows = NULL;
    int n = 0, objects = read_symbols(objdir(dir, sizeof dir), &rows, &n);
    if (objects <= 0) {
        print_message("cannot read the index/ objects in %s with nm: skipped\n", dir);
        free(rows);
        skip();
        return;
    }
    /* every object is on the map */
    for (int i = 0; i < n; i++)
        if (layer_of(rows[i].file) < 0) fail_msg("index/%s.c is not on the map of layers (tests/test_index_layers.c)", rows[i].file);
    static char report[1 << 16];
    int bad = bad_calls(rows, n, report, sizeof report);
    free(rows);
    if (bad) fail_msg("%d calls in index/ do not point down (see index/index_internal.h):\n%s", bad, report);
}

static void test_includes_point_down(void **s)
{
    (void)s;
    DIR *d = opendir("index");
    if (!d) { print_message("no index/ here (tests run from the repository root)\n"); skip(); return; }
    struct dirent *de;
    int checked = 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 3 || strcmp(de->d_name + l - 2, ".c")) continue;
        char file[64];
        snprintf(file, sizeof file, "%.*s", (int)(l - 2), de->d_name);
        const char *may = NULL;
        for (size_t i = 0; i < sizeof INCLUDES / sizeof INCLUDES[0]; i++)
            if (!strcmp(INCLUDES[i].file, file)) may = INCLUDES[i].headers;
        char path[1024], line[1024];
        snprintf(path, sizeof path, "index/%s", de->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        for (int ln = 1; fgets(line, sizeof line, f); ln++) {
            char h[256], want[300];
            if (sscanf(line, " # include \"index/%255[^\"]\"", h) != 1) continue;
            snprintf(want, sizeof want, " %s ", h);
            if (!strcmp(h, "index_internal.h")) fail_msg("%s:%d includes index_internal.h (everything: for tests only)", path, ln);
            if (may && !strstr(may, want)) fail_msg("%s:%d includes index/%s, above its layer (it may include%s)", path, ln, h, may);
        }
        fclose(f);
        checked++;
    }
    closedir(d);
    assert_true(checked >= (int)N_FILES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_catches_upward_calls),
        cmocka_unit_test(test_calls_point_down),
        cmocka_unit_test(test_includes_point_down),
    };
    return cmocka_run_group_tests_name("index_layers", tests, NULL, NULL);
}
