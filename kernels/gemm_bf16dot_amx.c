/* gemm_bf16dot on AMX (TDPBF16PS): the amxbf16 table's, from
 * KERN_BF16DOT_AMX_MIN_M rows; below, the avx512bf16 table's (vdpbf16ps).
 *
 * The product is taken transposed, C^T = W . bf16(A)^T, so that W, the large
 * operand, is read in place: a tile of TDPBF16PS's first operand is 16 rows
 * of 32 bf16, which is 16 rows of W and 32 k as they are stored (row stride
 * ldw).  Its second operand is bf16(A)^T in AMX's pair layout (row p of a
 * tile: the pairs (2p, 2p + 1) of 16 rows of A), packed per thread with A
 * rounded to bf16 as the avx512bf16 table rounds it (vcvtne2ps2bf16:
 * nearest even, a subnormal to zero).  Tiles 0..3 hold a 32 x 32 block of
 * C^T in f32 (2 x 2 tiles of 16 x 16), 4 and 5 two tiles of W, 6 and 7 two
 * of A.  A block's sums start from the bias (or, past the first k block,
 * from C) loaded into the tiles and run over the whole k block; the f32
 * sums go to C and come back exactly, so where the k blocks fall changes
 * no bit.  Only W's last, partial 32 k and a last block of fewer than 32 of
 * its rows are copied (zero-padded: nothing past K or N is read, and a
 * zero times a zero adds nothing).  Threads take contiguous runs of 32
 * columns (N blocks), each whole; every element is computed the same way
 * whatever the thread count, so any count gives the same bits.
 *
 * Each OpenMP thread loads its own tile configuration (palette 1, every
 * tile 16 rows of 64 bytes) and releases the tiles when done, so that the
 * OS need not keep their state past the call. */
#if defined(__x86_64__)
#include "kernels/vec_avx512.h"
#include "kernels/kernels_internal.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* k per block at most: a block of 32 W rows (64 KB) stays in L2 while
 * every row chunk of A passes over it; the rows of A per chunk then fill
 * the rest of the thread's scratch */
#define AMX_KC 1024
#define TILE_FLOATS 256 /* 16 rows of 64 bytes */
/* a thread's scratch: 4 tiles of C^T, W's last 32 k (32 rows), a last
 * block of W rows (32 x AMX_KC), and A for 32 rows at least */
#define CT_BYTES (4 * TILE_FLOATS * 4)
#define WK_BYTES (32 * 32 * 2)
_Static_assert(((size_t)KERN_GEMM_KC * KERN_GEMM_NC + (size_t)KERN_GEMM_KC * 16 + 64) * sizeof(float) >=
                   CT_BYTES + WK_BYTES + 2 * (32 * AMX_KC * 2),
               "kern_gemm_scratch_floats(1) holds a thread's AMX blocks");

/* Below this many rows the avx512bf16 table's forms are kept: AMX computes
 * 16 rows of A at a time, so with fewer most of each tile is padding, and
 * the fixed costs of a call (tile configuration, A packed and transposed
 * into pairs, each C^T block transposed back) are spread over few rows;
 * vdpbf16ps's dot-product and broadcast forms read W as AMX does and do no
 * work for rows that are not there.  The one place the choice is made. */
_Static_assert(KERN_BF16DOT_AMX_MIN_M >= 1, "rows from which AMX is used");

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;
_Static_assert(sizeof(tile_config) == 64, "LDTILECFG's 64 bytes");

static void tiles_begin(void)
{
    _Alignas(64) tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg);
}

/* ap: for each group g of 16 rows (groups of them, rows past `rows` zero)
 * and each chunk c of 32 k (nch of them, k past kv zero), one tile at
 * ap + (g nch + c) TILE_FLOATS whose row p holds pair p of the 16 rows:
 * rows of A rounded to pairs, then transposed 16 x 16 as 32-bit words */
static void pack_a(const float *A, int lda, int rows, int groups, int k0, int kv, int nch, uint32_t *ap)
{
    for (int g = 0; g < groups; g++)
        for (int c = 0; c < nch; c++) {
            vf r[16];
            const int n = kv - 32 * c;
            for (int j = 0; j < 16; j++) {
                const int m = 16 * g + j;
                if (m >= rows) {
                    r[j] = vf_zero();
                    continue;
                }
                const float *a = A + (size_t)m * lda + k0 + 32 * c;
                const vf lo = n >= 32 ? vf_load(a) : vf_load_n(a, n), hi = n >= 32 ? vf_load(a + 16) : vf_load_n(a + 16, n - 16);
                r[j] = _mm512_castsi512_ps(vbh_round(lo, hi));
            }
            vf_transpose(r);
            float *t = (float *)(void *)(ap + ((size_t)g * nch + c) * TILE_FLOATS);
            for (int p = 0; p < 16; p++) vf_store(t + 16 * p, r[p]);
        }
}

/* The C^T tiles of a 32 x 32 block (tile 2 i + j: columns n0 + 16 i .., rows
 * m0 + 16 j ..) from the bias (zero without one), nr columns and mr rows of
 * it real */
static void ct_from_bias(const float *bias, int nr, float *ct)
{
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 16; r++) {
            const vf b = vf_set1(bias && 16 * i + r < nr ? bias[16 * i + r] : 0.0f);
            vf_store(ct + (2 * i) * TILE_FLOATS + 16 * r, b);
            vf_store(ct + (2 * i + 1) * TILE_FLOATS + 16 * r, b);
        }
}

/* ... from C (the sums of the k blocks before), transposed */
static void ct_from_c(const float *C, int ldc, int nr, int mr, float *ct)
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            vf r[16];
            for (int c = 0; c < 16; c++)
                r[c] = 16 * j + c < mr && 16 * i < nr ? vf_load_n(C + (size_t)(16 * j + c) * ldc + 16 * i, nr - 16 * i) : vf_zero();
            vf_transpose(r);
            for (int n = 0; n < 16; n++) vf_store(ct + (2 * i + j) * TILE_FLOATS + 16 * n, r[n]);
        }
}

/* ... back to C, transposed: only its nr x mr real part */
static void ct_to_c(const float *ct, float *C, int ldc, int nr, int mr)
{
    for (int i = 0; i < 2 && 16 * i < nr; i++)
        for (int j = 0; j < 2 && 16 * j < mr; j++) {
            vf r[16];
            for (int n = 0; n < 16; n++) r[n] = vf_load(ct + (2 * i + j) * TILE_FLOATS + 16 * n);
            vf_transpose(r);
            for (int c = 0; c < 16 && 16 * j + c < mr; c++) vf_store_n(C + (size_t)(16 * j + c) * ldc + 16 * i, r[c], nr - 16 * i);
        }
}

/* dst (rows of ldd bf16) = rows 0 .. nr of W (ldw), elements k0 .. k0 + kv,
 * zero to 32 rows and ld elements */
static void copy_w(const uint16_t *W, int ldw, int nr, int k0, int kv, uint16_t *dst, int ld)
{
    for (int r = 0; r < 32; r++) {
        uint16_t *d = dst + (size_t)r * ld;
        const int n = r < nr ? kv : 0;
        if (n) memcpy(d, W + (size_t)r * ldw + k0, (size_t)n * sizeof(uint16_t));
        memset(d + n, 0, (size_t)(ld - n) * sizeof(uint16_t));
    }
}

/* Columns n_begin .. n_end of C (whole 32-column blocks but perhaps the
 * last of C), with one thread's scratch of `room` bytes */
static void amx_cols(int M, int K, const float *A, int lda, const uint16_t *W, int ldw, const float *bias, float *C,
                     int ldc, int n_begin, int n_end, unsigned char *scratch, size_t room)
{
    float *ct = (float *)(void *)scratch;
    uint16_t *wk = (uint16_t *)(void *)(scratch + CT_BYTES), *wn = (uint16_t *)(void *)(scratch + CT_BYTES + WK_BYTES);
    /* k blocks of equal size, multiples of 32 */
    const int nkb = (K + AMX_KC - 1) / AMX_KC, kb = ((K + nkb - 1) / nkb + 31) & ~31;
    const size_t wn_bytes = (size_t)32 * kb * 2;
    uint32_t *ap = (uint32_t *)(void *)(scratch + CT_BYTES + WK_BYTES + wn_bytes);
    int mc = (int)((room - CT_BYTES - WK_BYTES - wn_bytes) / ((size_t)kb * 2) / 32 * 32);
    if (mc > ((M + 31) & ~31)) mc = (M + 31) & ~31;
    tiles_begin();
    for (int mc0 = 0; mc0 < M; mc0 += mc) {
        const int rows = M - mc0 < mc ? M - mc0 : mc, groups = (rows + 31) / 32 * 2;
        for (int k0 = 0; k0 < K; k0 += kb) {
            const int kv = K - k0 < kb ? K - k0 : kb, nch = (kv + 31) / 32, full = kv / 32;
            pack_a(A + (size_t)mc0 * lda, lda, rows, groups, k0, kv, nch, ap);
            for (int n0 = n_begin; n0 < n_end; n0 += 32) {
                const int nr = n_end - n0 < 32 ? n_end - n0 : 32;
                const uint16_t *w0, *w1;
                long ws;
                if (nr < 32) { /* the last rows of W: all of the block copied */
                    copy_w(W + (size_t)n0 * ldw, ldw, nr, k0, kv, wn, 32 * nch);
                    w0 = wn;
                    w1 = wn + (size_t)16 * 32 * nch;
                    ws = 64L * nch;
                } else {
                    w0 = W + (size_t)n0 * ldw + k0;
                    w1 = w0 + (size_t)16 * ldw;
                    ws = 2L * ldw;
                    if (full < nch) copy_w(W + (size_t)n0 * ldw, ldw, 32, k0 + 32 * full, kv - 32 * full, wk, 32);
                }
                const float *b = bias ? bias + n0 : NULL;
                for (int g = 0; g < groups; g += 2) {
                    const int m0 = mc0 + 16 * g, mr = M - m0 < 32 ? M - m0 : 32;
                    float *c = C + (size_t)m0 * ldc + n0;
                    if (k0 == 0) ct_from_bias(b, nr, ct);
                    else ct_from_c(c, ldc, nr, mr, ct);
                    _tile_loadd(0, ct, 64);
                    _tile_loadd(1, ct + TILE_FLOATS, 64);
                    _tile_loadd(2, ct + 2 * TILE_FLOATS, 64);
                    _tile_loadd(3, ct + 3 * TILE_FLOATS, 64);
                    const uint32_t *a0 = ap + (size_t)g * nch * TILE_FLOATS, *a1 = a0 + (size_t)nch * TILE_FLOATS;
                    for (int q = 0; q < nch; q++) {
                        if (nr == 32 && q == full) { /* W's last, partial 32 k */
                            _tile_loadd(4, wk, 64);
                            _tile_loadd(5, wk + 16 * 32, 64);
                        } else {
                            _tile_loadd(4, w0 + 32 * q, ws);
                            _tile_loadd(5, w1 + 32 * q, ws);
                        }
                        _tile_loadd(6, a0 + (size_t)q * TILE_FLOATS, 64);
                        _tile_loadd(7, a1 + (size_t)q * TILE_FLOATS, 64);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                    _tile_stored(0, ct, 64);
                    _tile_stored(1, ct + TILE_FLOATS, 64);
                    _tile_stored(2, ct + 2 * TILE_FLOATS, 64);
                    _tile_stored(3, ct + 3 * TILE_FLOATS, 64);
                    ct_to_c(ct, c, ldc, nr, mr);
                }
            }
        }
    }
    _tile_release();
}

void kern_gemm_bf16dot_amx(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw,
                           const float *bias, float *C, int ldc, float *pack, int n_threads)
{
    if (M < KERN_BF16DOT_AMX_MIN_M || N <= 0 || K <= 0) { /* and the empty cases: vdpbf16ps's */
        kern_ops_avx512bf16.gemm_bf16dot(M, N, K, A, lda, W, ldw, bias, C, ldc, pack, n_threads);
        return;
    }
    const size_t per_thread = kern_gemm_scratch_floats(1);
    const int units = (N + 31) / 32;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > units) nt = units;
    if (nt == 1) {
        amx_cols(M, K, A, lda, W, ldw, bias, C, ldc, 0, N, (unsigned char *)pack, per_thread * sizeof(float));
        return;
    }
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        const int b0 = (int)((long)units * t / nt) * 32, b1 = (int)((long)units * (t + 1) / nt) * 32;
        const int ne = b1 < N ? b1 : N;
        if (b0 < ne)
            amx_cols(M, K, A, lda, W, ldw, bias, C, ldc, b0, ne, (unsigned char *)(pack + (size_t)t * per_thread),
                     per_thread * sizeof(float));
    }
}
#endif
