/* The index file: a checksummed header, a section table, and 64-byte aligned
 * sections each with its own CRC-32.  Written to a new temporary beside the
 * file, fsynced, renamed over it (sys/atomic_file.c); opened by mmap and
 * searched straight from the mapping. */
#include "index/index.h"
#include "index/ivfpq.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "EMBERIDX"
#define VERSION 1
#define HEADER_SIZE 128
#define MAX_SECTIONS 20

enum { S_CODES = 1, S_IDS, S_DELETED, S_TEXT_OFF, S_TEXT, S_CALIB, S_NORMS, S_RESCORE, S_LEVELS, S_LINKS0, S_UPPER, S_META,
       S_CENTROIDS, S_PQ, S_LISTS, S_REFINE };
static const char *SNAME[] = {"?", "codes", "ids", "deleted", "text offsets", "text", "int8 calibration", "norms",
                              "rescore vectors", "levels", "layer-0 links", "upper links", "metadata",
                              "centroids", "PQ codebooks", "list assignments", "refine vectors"};

typedef struct {
    char magic[8];
    uint32_t version, header_size, type, metric, vec, dim;
    uint64_t count, n_deleted;
    uint32_t M, ef_construction, rescore, max_level, entry, n_sections;
    uint64_t rng, seed;
    uint32_t nlist, pq_m, refine; /* IVF-PQ */
    uint32_t pq_bits;             /* IVF-PQ: 4 or 8 (0 in files written before 4-bit codes: 8) */
    uint8_t reserved[HEADER_SIZE - 8 - 6 * 4 - 2 * 8 - 6 * 4 - 2 * 8 - 4 * 4 - 4];
    uint32_t crc; /* of the 124 bytes before it */
} file_header;
_Static_assert(sizeof(file_header) == HEADER_SIZE, "header layout");

typedef struct { uint32_t kind, reserved; uint64_t offset, size; uint32_t crc, pad; } file_section;

typedef struct { const void *p; uint64_t size; uint32_t kind; } out_sec;

static uint64_t upper_words(const emb_index *x)
{
    uint64_t w = 0;
    for (size_t i = 0; i < x->n; i++) w += (uint64_t)x->levels[i] * (uint64_t)(x->M + 1);
    return w;
}

/* Sections go through in steps of CHUNK bytes: progress ticks between them. */
#define CHUNK ((size_t)8 << 20)

static uint32_t crc_ticking(const void *p, uint64_t size, idx_ticker *tk, uint64_t *done)
{
    uint32_t crc = 0;
    for (uint64_t o = 0; o < size; o += CHUNK) {
        size_t len = size - o < CHUNK ? (size_t)(size - o) : CHUNK;
        crc = idx_crc32(crc, (const unsigned char *)p + o, len);
        *done += len;
        idx_tick(tk, (size_t)*done);
    }
    return crc;
}

static int write_ticking(sys_atomic_file *f, const void *p, uint64_t size, idx_ticker *tk, uint64_t *done)
{
    for (uint64_t o = 0; o < size; o += CHUNK) {
        size_t len = size - o < CHUNK ? (size_t)(size - o) : CHUNK;
        if (sys_atomic_write(f, (const unsigned char *)p + o, len) != 0) return -1;
        *done += len;
        idx_tick(tk, (size_t)*done);
    }
    return 0;
}

idx_status idx_save(const emb_index *x, const char *path, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    idx_status built = idx_require_built(x, err, errlen);
    if (built != IDX_OK) return built;
    out_sec sec[MAX_SECTIONS];
    int ns = 0;
    uint32_t *upper = NULL;
    sec[ns++] = (out_sec){ x->codes, (uint64_t)x->n * x->code_bytes, S_CODES };
    sec[ns++] = (out_sec){ x->ids, (uint64_t)x->n * 8, S_IDS };
    sec[ns++] = (out_sec){ x->deleted, x->n, S_DELETED };
    sec[ns++] = (out_sec){ x->text_off, ((uint64_t)x->n + 1) * 8, S_TEXT_OFF };
    sec[ns++] = (out_sec){ x->text, x->text_len, S_TEXT };
    float *calib = NULL;
    if (x->i8_scale) {
        calib = malloc((size_t)x->dim * 8);
        if (!calib) return snprintf(err, errlen, "out of memory"), IDX_ERR_NOMEM;
        memcpy(calib, x->i8_scale, (size_t)x->dim * 4);
        memcpy(calib + x->dim, x->i8_offset, (size_t)x->dim * 4);
        sec[ns++] = (out_sec){ calib, (uint64_t)x->dim * 8, S_CALIB };
    }
    if (x->norms) sec[ns++] = (out_sec){ x->norms, (uint64_t)x->n * 4, S_NORMS };
    if (x->rescore) sec[ns++] = (out_sec){ x->rescore, (uint64_t)x->n * x->dim, S_RESCORE };
    if (x->type == IDX_HNSW) {
        uint64_t w = upper_words(x), o = 0;
        upper = malloc(w ? w * 4 : 4);
        if (!upper) { free(calib); return snprintf(err, errlen, "out of memory"), IDX_ERR_NOMEM; }
        for (size_t i = 0; i < x->n; i++) {
            size_t c = (size_t)x->levels[i] * (x->M + 1);
            if (c) memcpy(upper + o, x->upper[i], c * 4);
            o += c;
        }
        sec[ns++] = (out_sec){ x->levels, x->n, S_LEVELS };
        sec[ns++] = (out_sec){ x->links0, (uint64_t)x->n * (x->M0 + 1) * 4, S_LINKS0 };
        sec[ns++] = (out_sec){ upper, w * 4, S_UPPER };
    }
    if (x->type == IDX_IVFPQ) {
        sec[ns++] = (out_sec){ x->centroids, (uint64_t)x->nlist * x->dim * 4, S_CENTROIDS };
        sec[ns++] = (out_sec){ x->pq, (uint64_t)x->pq_m * x->ksub * x->dsub * 4, S_PQ };
        sec[ns++] = (out_sec){ x->list_of, (uint64_t)x->n * 4, S_LISTS };
    }
    if (x->refine_vecs) sec[ns++] = (out_sec){ x->refine_vecs, (uint64_t)x->n * x->dim * 4, S_REFINE };
    sec[ns++] = (out_sec){ x->meta, strlen(x->meta), S_META };

    file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = VERSION; h.header_size = HEADER_SIZE;
    h.type = x->type; h.metric = x->metric; h.vec = x->vt; h.dim = (uint32_t)x->dim;
    h.count = x->n; h.n_deleted = x->n_deleted;
    h.M = (uint32_t)x->M; h.ef_construction = (uint32_t)x->p.ef_construction; h.rescore = (uint32_t)x->p.rescore;
    h.max_level = (uint32_t)x->max_level; h.entry = x->entry; h.n_sections = (uint32_t)ns;
    h.rng = x->rng; h.seed = x->p.seed;
    h.nlist = (uint32_t)x->nlist; h.pq_m = (uint32_t)x->pq_m; h.refine = x->refine_vecs != NULL;
    h.pq_bits = x->type == IDX_IVFPQ ? (uint32_t)x->pq_bits : 0;
    h.crc = idx_crc32(0, &h, offsetof(file_header, crc));
    /* progress: every byte is read once for its checksum, then written */
    uint64_t bytes = 0, done = 0;
    for (int i = 0; i < ns; i++) bytes += sec[i].size;
    idx_ticker tk;
    idx_tick_start(&tk, x, "write", (size_t)(2 * bytes));
    file_section tab[MAX_SECTIONS];
    uint64_t off = (HEADER_SIZE + (uint64_t)ns * sizeof(file_section) + 63) / 64 * 64;
    for (int i = 0; i < ns; i++) {
        tab[i] = (file_section){ sec[i].kind, 0, off, sec[i].size, crc_ticking(sec[i].p, sec[i].size, &tk, &done), 0 };
        off = (off + sec[i].size + 63) / 64 * 64;
    }
    sys_atomic_file f;
    int bad = sys_atomic_begin(&f, path, err, errlen) != 0;
    if (!bad) {
        static const unsigned char zero[64];
        int wbad = sys_atomic_write(&f, &h, sizeof h) || sys_atomic_write(&f, tab, (size_t)ns * sizeof(file_section));
        uint64_t pos = HEADER_SIZE + (uint64_t)ns * sizeof(file_section);
        for (int i = 0; i < ns && !wbad; i++) {
            wbad = sys_atomic_write(&f, zero, (size_t)(tab[i].offset - pos));
            if (!wbad && sec[i].size) wbad = write_ticking(&f, sec[i].p, sec[i].size, &tk, &done);
            pos = tab[i].offset + sec[i].size;
        }
        bad = sys_atomic_commit(&f, wbad, err, errlen) != 0;
    }
    if (!bad) idx_tick_end(&tk);
    free(upper);
    free(calib);
    return bad ? IDX_ERR_IO : IDX_OK;
}

/* 1 when the n floats at v are all finite; else 0 and the first bad index in *at */
static int floats_finite(const float *v, uint64_t n, uint64_t *at)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) { *at = i; return 0; }
    return 1;
}

static int all_zero(const void *p, uint64_t n)
{
    const unsigned char *c = p;
    for (uint64_t i = 0; i < n; i++)
        if (c[i]) return 0;
    return 1;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

emb_index *idx_open(const char *path, char *err, size_t errlen)
{
    char tmp[256];
    if (!err) { err = tmp; errlen = sizeof tmp; }
    emb_index *x = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { close(fd); snprintf(err, errlen, "%s: not a regular file", path); return NULL; }
    uint64_t size = (uint64_t)st.st_size;
    if (size < HEADER_SIZE) { close(fd); snprintf(err, errlen, "%s: truncated (%llu bytes, header needs %d)", path, (unsigned long long)size, HEADER_SIZE); return NULL; }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { snprintf(err, errlen, "%s: mmap failed: %s", path, strerror(errno)); return NULL; }
    const unsigned char *base = map;
    file_header h;
    memcpy(&h, base, sizeof h);
    const void *sp[MAX_SECTIONS + 1] = {0};
    uint64_t ssz[MAX_SECTIONS + 1] = {0};
    if (memcmp(h.magic, MAGIC, 8) != 0) FAIL("%s: bad magic: not an ember index file", path);
    if (h.version != VERSION) FAIL("%s: unsupported index version %u (this build reads %d)", path, h.version, VERSION);
    if (h.crc != idx_crc32(0, &h, offsetof(file_header, crc))) FAIL("%s: header checksum mismatch (corrupt file)", path);
    if (h.header_size != HEADER_SIZE) FAIL("%s: header size %u", path, h.header_size);
    if ((h.type != IDX_FLAT && h.type != IDX_HNSW && h.type != IDX_IVFPQ) || h.metric < IDX_IP || h.metric > IDX_HAMMING || h.vec < IDX_F32 || h.vec > IDX_BIN)
        FAIL("%s: unknown index type %u / metric %u / vector type %u", path, h.type, h.metric, h.vec);
    if (h.dim < 1 || h.dim > 65536) FAIL("%s: absurd dimension %u", path, h.dim);
    if (h.count > UINT32_MAX - 1 || h.count > size) FAIL("%s: absurd vector count %llu for a %llu-byte file", path, (unsigned long long)h.count, (unsigned long long)size);
    if (h.n_deleted > h.count) FAIL("%s: %llu deleted of %llu vectors", path, (unsigned long long)h.n_deleted, (unsigned long long)h.count);
    if (h.n_sections < 1 || h.n_sections > MAX_SECTIONS) FAIL("%s: %u sections", path, h.n_sections);
    if (h.type == IDX_HNSW && (h.M < 2 || h.M > 128 || h.max_level > IDX_MAX_LEVEL || (h.count && h.entry >= h.count)))
        FAIL("%s: HNSW parameters out of range (M %u, max level %u, entry %u)", path, h.M, h.max_level, h.entry);
    if (HEADER_SIZE + (uint64_t)h.n_sections * sizeof(file_section) > size) FAIL("%s: truncated in the section table", path);
    idx_params p = idx_default_params();
    p.M = h.type == IDX_HNSW ? (int)h.M : 16;
    p.ef_construction = h.ef_construction >= 1 && h.ef_construction <= 100000 ? (int)h.ef_construction : 200;
    p.rescore = h.rescore != 0;
    p.seed = h.seed;
    if (h.type != IDX_IVFPQ || h.pq_bits == 0) h.pq_bits = 8;
    if (h.type == IDX_IVFPQ) {
        if (h.nlist < 1 || h.nlist > 65536 || h.pq_m < 1 || h.pq_m > h.dim || h.dim % h.pq_m || h.dim / h.pq_m > 256 ||
            (h.pq_bits != 8 && h.pq_bits != 4) || (h.pq_bits == 4 && (h.pq_m % 2 || h.pq_m > 256)))
            FAIL("%s: IVF-PQ parameters out of range (nlist %u, pq_m %u, pq_bits %u, dim %u)", path, h.nlist, h.pq_m, h.pq_bits, h.dim);
        p.nlist = (int)h.nlist;
        p.pq_m = (int)h.pq_m;
        p.pq_bits = (int)h.pq_bits;
    }
    p.refine = h.refine != 0; /* idx_create refuses it where it does not apply */
    x = idx_create((idx_type)h.type, (idx_metric)h.metric, (idx_vec)h.vec, (int)h.dim, &p, err, errlen);
    if (!x) { munmap(map, (size_t)size); return NULL; }
    free(x->i8_scale); free(x->i8_offset); free(x->text_off); free(x->centroids); free(x->pq);
    x->i8_scale = x->i8_offset = NULL;
    x->text_off = NULL;
    x->centroids = x->pq = NULL;
    x->map = map;
    x->map_len = (size_t)size;
    for (uint32_t i = 0; i < h.n_sections; i++) {
        file_section s;
        memcpy(&s, base + HEADER_SIZE + i * sizeof s, sizeof s);
        if (s.kind < S_CODES || s.kind > S_REFINE) FAIL("%s: unknown section kind %u", path, s.kind);
        if (sp[s.kind] || ssz[s.kind]) FAIL("%s: duplicate %s section", path, SNAME[s.kind]);
        if (s.offset % 64 || s.offset > size || s.size > size - s.offset)
            FAIL("%s: %s section [%llu, +%llu) lies outside the %llu-byte file (truncated?)", path, SNAME[s.kind],
                 (unsigned long long)s.offset, (unsigned long long)s.size, (unsigned long long)size);
        if ((s.size ? idx_crc32(0, base + s.offset, s.size) : 0) != s.crc) FAIL("%s: %s section checksum mismatch (corrupt file)", path, SNAME[s.kind]);
        sp[s.kind] = base + s.offset;
        ssz[s.kind] = s.size;
    }
    uint64_t n = h.count;
    x->n = x->cap = n;
    struct { int kind; uint64_t want; int required; } need[] = {
        {S_CODES, n * x->code_bytes, 1}, {S_IDS, n * 8, 1}, {S_DELETED, n, 1}, {S_TEXT_OFF, (n + 1) * 8, 1},
        {S_CALIB, (uint64_t)h.dim * 8, h.vec == IDX_I8 || p.rescore}, {S_NORMS, n * 4, h.vec == IDX_I8 && h.metric == IDX_L2},
        {S_RESCORE, n * h.dim, p.rescore}, {S_LEVELS, n, h.type == IDX_HNSW}, {S_LINKS0, n * (2 * h.M + 1) * 4, h.type == IDX_HNSW},
        {S_CENTROIDS, (uint64_t)h.nlist * h.dim * 4, h.type == IDX_IVFPQ},
        {S_PQ, (uint64_t)h.pq_m * (1u << h.pq_bits) * (h.pq_m ? h.dim / h.pq_m : 0) * 4, h.type == IDX_IVFPQ},
        {S_LISTS, n * 4, h.type == IDX_IVFPQ}, {S_REFINE, n * h.dim * 4, h.refine != 0},
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        /* a section this kind of index does not use would be carried
         * along unchecked (a calibration beside f32 vectors was saved back
         * as all zeros, and the file then refused to open: a fuzzing find) */
        if (!need[i].required && (sp[need[i].kind] || ssz[need[i].kind]))
            FAIL("%s: %s section in a %s %s index, which has none", path, SNAME[need[i].kind], idx_type_name(h.type), idx_vec_name(h.vec));
        if (!need[i].required) continue;
        if (!sp[need[i].kind] && need[i].want) FAIL("%s: missing %s section", path, SNAME[need[i].kind]);
        if (ssz[need[i].kind] != need[i].want)
            FAIL("%s: %s section has %llu bytes, expected %llu", path, SNAME[need[i].kind], (unsigned long long)ssz[need[i].kind], (unsigned long long)need[i].want);
    }
    x->codes = (unsigned char *)sp[S_CODES];
    x->ids = (int64_t *)sp[S_IDS];
    x->deleted = (uint8_t *)sp[S_DELETED];
    x->text_off = (uint64_t *)sp[S_TEXT_OFF];
    x->text = (char *)sp[S_TEXT];
    x->text_len = ssz[S_TEXT];
    size_t dead = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (x->deleted[i] > 1) FAIL("%s: bad tombstone byte at vector %llu", path, (unsigned long long)i);
        if (!x->deleted[i] && x->ids[i] < 0)
            FAIL("%s: vector %llu has id %lld: ids are 0 .. 2^63-1 (-1 marks an empty result); rebuild the index with other ids",
                 path, (unsigned long long)i, (long long)x->ids[i]);
        dead += x->deleted[i];
        if (x->text_off[i + 1] < x->text_off[i] || x->text_off[i + 1] > x->text_len) FAIL("%s: text offsets out of order at vector %llu", path, (unsigned long long)i);
    }
    if (x->text_off[0] != 0) FAIL("%s: text offsets do not start at 0", path);
    /* the next add appends at text_len: offsets ending short of it would
     * give the new vector the stale bytes between (a fuzzing find) */
    if (x->text_off[n] != x->text_len)
        FAIL("%s: text offsets end at %llu, the text section holds %llu bytes", path, (unsigned long long)x->text_off[n],
             (unsigned long long)x->text_len);
    if (dead != h.n_deleted) FAIL("%s: %zu tombstones but the header says %llu", path, dead, (unsigned long long)h.n_deleted);
    x->n_deleted = dead;
    /* floats are checked as ints are: a NaN or an infinity from a file
     * would reach float-to-integer conversions (int8 codes, 4-bit lookup
     * tables) and turn every distance into NaN */
    uint64_t at;
    if (h.vec == IDX_F32 && h.type != IDX_IVFPQ && !floats_finite((const float *)sp[S_CODES], n * h.dim, &at))
        FAIL("%s: vector %llu holds a non-finite value", path, (unsigned long long)(at / h.dim));
    /* an index saved before its first vector holds its training as zeros:
     * the first add (or train) after opening it does the training */
    int calibrated = sp[S_CALIB] && !(n == 0 && all_zero(sp[S_CALIB], ssz[S_CALIB]));
    int trained = h.type == IDX_IVFPQ && !(n == 0 && all_zero(sp[S_CENTROIDS], ssz[S_CENTROIDS]) && all_zero(sp[S_PQ], ssz[S_PQ]));
    if (calibrated) {
        const float *sc = (const float *)sp[S_CALIB], *of = sc + h.dim;
        for (uint32_t d = 0; d < h.dim; d++)
            /* decoding q * scale + offset for q in -128..127 must stay finite */
            if (!(sc[d] > 0) || !isfinite(of[d]) || !((double)fabsf(of[d]) + 256.0 * sc[d] < FLT_MAX))
                FAIL("%s: int8 calibration of dimension %u is out of range (scale %g, offset %g; scale > 0 and both finite)",
                     path, d, (double)sc[d], (double)of[d]);
    }
    if (h.vec == IDX_I8 && h.metric == IDX_L2)
        for (uint64_t i = 0; i < n; i++) {
            float v = ((const float *)sp[S_NORMS])[i];
            if (!(v >= 0 && v <= FLT_MAX)) FAIL("%s: vector %llu has norm %g (finite and >= 0 expected)", path, (unsigned long long)i, (double)v);
        }
    if (h.type == IDX_IVFPQ) {
        if (!floats_finite((const float *)sp[S_CENTROIDS], (uint64_t)h.nlist * h.dim, &at))
            FAIL("%s: IVF-PQ centroid %llu holds a non-finite value", path, (unsigned long long)(at / h.dim));
        if (!floats_finite((const float *)sp[S_PQ], ssz[S_PQ] / 4, &at))
            FAIL("%s: PQ codebook value %llu is not finite", path, (unsigned long long)at);
    }
    if (p.refine && !floats_finite((const float *)sp[S_REFINE], n * h.dim, &at))
        FAIL("%s: refine vector %llu holds a non-finite value", path, (unsigned long long)(at / h.dim));
    if (sp[S_CALIB]) { x->i8_scale = (float *)sp[S_CALIB]; x->i8_offset = x->i8_scale + h.dim; x->calibrated = calibrated; }
    if (h.vec == IDX_I8 && h.metric == IDX_L2) x->norms = (float *)sp[S_NORMS];
    if (p.rescore) x->rescore = (int8_t *)sp[S_RESCORE];
    if (p.refine) x->refine_vecs = (float *)sp[S_REFINE];
    if (sp[S_META]) snprintf(x->meta, sizeof x->meta, "%.*s", (int)(ssz[S_META] < 255 ? ssz[S_META] : 255), (const char *)sp[S_META]);
    if (h.type == IDX_IVFPQ) {
        x->centroids = (float *)sp[S_CENTROIDS];
        x->pq = (float *)sp[S_PQ];
        x->list_of = (uint32_t *)sp[S_LISTS];
        x->trained = trained;
        for (uint64_t i = 0; i < n; i++)
            if (x->list_of[i] >= h.nlist) FAIL("%s: vector %llu is in list %u of %u", path, (unsigned long long)i, x->list_of[i], h.nlist);
        if (ivfpq_build_lists(x) != 0) FAIL("%s: out of memory", path);
    }
    if (h.type == IDX_HNSW) {
        x->levels = (uint8_t *)sp[S_LEVELS];
        x->links0 = (uint32_t *)sp[S_LINKS0];
        x->max_level = (int)h.max_level;
        x->entry = h.entry;
        x->rng = h.rng;
        uint64_t words = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (x->levels[i] > IDX_MAX_LEVEL) FAIL("%s: vector %llu has level %u", path, (unsigned long long)i, x->levels[i]);
            words += (uint64_t)x->levels[i] * (h.M + 1);
        }
        if (ssz[S_UPPER] != words * 4) FAIL("%s: upper links section has %llu bytes, expected %llu", path, (unsigned long long)ssz[S_UPPER], (unsigned long long)(words * 4));
        if (n && x->levels[h.entry] != h.max_level) FAIL("%s: entry point level %u differs from max level %u", path, x->levels[h.entry], h.max_level);
        x->upper = calloc(n ? n : 1, sizeof(uint32_t *));
        x->upper_pool = malloc(words ? words * 4 : 4); /* upper layers are small (about n/M nodes): copied */
        if (!x->upper || !x->upper_pool) FAIL("%s: out of memory", path);
        memcpy(x->upper_pool, sp[S_UPPER], words * 4);
        uint64_t o = 0;
        for (uint64_t i = 0; i < n; i++) {
            x->upper[i] = x->levels[i] ? x->upper_pool + o : NULL;
            o += (uint64_t)x->levels[i] * (h.M + 1);
        }
        /* every link must point inside the index */
        for (uint64_t i = 0; i < n; i++)
            for (int l = 0; l <= x->levels[i]; l++) {
                const uint32_t *li = l ? x->upper[i] + (size_t)(l - 1) * (h.M + 1) : x->links0 + i * (2 * h.M + 1);
                uint32_t cap = l ? h.M : 2 * h.M;
                if (li[0] > cap) FAIL("%s: vector %llu has %u links on level %d (max %u)", path, (unsigned long long)i, li[0], l, cap);
                for (uint32_t j = 0; j < li[0]; j++)
                    if (li[1 + j] >= n || x->levels[li[1 + j]] < l)
                        FAIL("%s: vector %llu links to %u on level %d, which is not there", path, (unsigned long long)i, li[1 + j], l);
            }
    }
    if (idx_hash_build(x) != 0) FAIL("%s: out of memory", path);
    return x;
fail:
    if (x) idx_free(x);
    else munmap(map, (size_t)size);
    return NULL;
}

int idx_file_reseal(void *img, size_t len)
{
    unsigned char *b = img;
    file_header h;
    if (len < HEADER_SIZE || memcmp(b, MAGIC, 8) != 0) return -1;
    memcpy(&h, b, sizeof h);
    uint32_t ns = h.n_sections < MAX_SECTIONS ? h.n_sections : MAX_SECTIONS;
    for (uint32_t i = 0; i < ns && HEADER_SIZE + (i + 1) * sizeof(file_section) <= len; i++) {
        file_section s;
        unsigned char *e = b + HEADER_SIZE + i * sizeof s;
        memcpy(&s, e, sizeof s);
        if (s.offset > len || s.size > len - s.offset) continue; /* idx_open refuses it before any checksum */
        s.crc = s.size ? idx_crc32(0, b + s.offset, (size_t)s.size) : 0;
        memcpy(e, &s, sizeof s);
    }
    h.crc = idx_crc32(0, &h, offsetof(file_header, crc));
    memcpy(b, &h, sizeof h);
    return 0;
}
