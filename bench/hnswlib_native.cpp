// hnswlib compiled for this CPU (-O3 -march=native, Debian's libhnswlib-dev
// headers): the honest HNSW bar for bench/run_index.sh.  Reads the files
// bench_index wrote; prints JSON lines like bench_index, each naming the
// distance kernels the compiler let hnswlib use, and its peak RSS.
//   hnswlib_native DIR THREADS [HEADERS]   (HEADERS: where the headers came from, for the rows)
#include <hnswlib/hnswlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static std::vector<char> load(const char *dir, const char *name, unsigned &rows, unsigned &cols, size_t elem)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f || fread(&rows, 4, 1, f) != 1 || fread(&cols, 4, 1, f) != 1) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    std::vector<char> buf((size_t)rows * cols * elem);
    if (fread(buf.data(), 1, buf.size(), f) != buf.size()) { fprintf(stderr, "short %s\n", path); exit(1); }
    fclose(f);
    return buf;
}

// hnswlib picks its inner-product kernel at compile time (USE_AVX512, USE_AVX,
// USE_SSE from the compiler's macros), AVX-512 or AVX also checked at run time
static const char *kernels()
{
#if defined(USE_AVX512)
    return AVX512Capable() ? "AVX-512" : "AVX-512 built, not on this CPU";
#elif defined(USE_AVX)
    return AVXCapable() ? "AVX" : "AVX built, not on this CPU";
#elif defined(USE_SSE)
    return "SSE";
#else
    return "scalar";
#endif
}

static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: hnswlib_native DIR THREADS [HEADERS]\n"); return 2; }
    const char *dir = argv[1];
    int T = atoi(argv[2]);
    char isa[256];
    snprintf(isa, sizeof isa, "g++ -O3 -march=native, %s kernels%s%s", kernels(), argc > 3 ? ", headers " : "", argc > 3 ? argv[3] : "");
    unsigned n, d, nq, qd, gq, k;
    auto data = load(dir, "data.bin", n, d, 4);
    auto qs = load(dir, "queries.bin", nq, qd, 4);
    auto gtb = load(dir, "gt.bin", gq, k, 8);
    const float *X = (const float *)data.data(), *Q = (const float *)qs.data();
    const int64_t *gt = (const int64_t *)gtb.data();
    hnswlib::InnerProductSpace space(d);
    hnswlib::HierarchicalNSW<float> h(&space, n, 16, 200, 42);
    double t0 = now();
    std::vector<std::thread> th;
    for (int t = 0; t < T; t++)
        th.emplace_back([&, t] { for (unsigned i = t; i < n; i += T) h.addPoint(X + (size_t)i * d, i); });
    for (auto &x : th) x.join();
    double tb = now() - t0;
    int efs[] = {10, 16, 24, 32, 40, 48, 64, 128, 256};
    for (int ef : efs) {
        h.setEf(ef);
        std::vector<long> hits(T, 0);
        double tsr = 1e30;
        for (int rep = 0; rep < 3; rep++) { /* best of 3, as the other harnesses */
            std::fill(hits.begin(), hits.end(), 0);
            t0 = now();
            std::vector<std::thread> ts;
            for (int t = 0; t < T; t++)
                ts.emplace_back([&, t] {
                    for (unsigned q = t; q < nq; q += T) {
                        auto r = h.searchKnn(Q + (size_t)q * d, k);
                        while (!r.empty()) {
                            for (unsigned j = 0; j < k; j++) if ((int64_t)r.top().second == gt[(size_t)q * k + j]) { hits[t]++; break; }
                            r.pop();
                        }
                    }
                });
            for (auto &x : ts) x.join();
            tsr = std::min(tsr, now() - t0);
        }
        long hit = 0;
        for (long v : hits) hit += v;
        printf("{\"engine\": \"hnswlib (-march=native)\", \"index\": \"hnsw f32\", \"threads\": %d, \"param\": \"ef=%d\", \"recall\": %.4f, \"qps\": %.1f, \"build_s\": %.2f, \"bytes_per_vec\": %zu, \"isa\": \"%s\"}\n",
               T, ef, (double)hit / ((double)nq * k), nq / tsr, tb, (size_t)d * 4 + 16 * 2 * 4 + 4 + 8, isa);
        fflush(stdout);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"engine\": \"hnswlib (-march=native)\", \"peak_rss_mb\": %.1f, \"threads\": %d, \"what\": \"the data set and its index\"}\n",
           ru.ru_maxrss / 1024.0, T);
    return 0;
}
