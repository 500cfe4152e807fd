#!/bin/sh
# make bench-index: ember's index vs hnswlib (compiled -march=native, and
# Debian's python build) and FAISS on the same generated vectors, same
# queries, exact ground truth; results into the "Vector index" section of
# bench/RESULTS.md.   N=200000 NQ=2000 by default (override: make bench-index N=50000).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-200000}
NQ=${NQ:-2000}
OUT=$BUILD/bench-index
mkdir -p "$OUT"
# FAISS's OpenMP and BLAS pools fight on 2 cores when both spin
export OMP_WAIT_POLICY=PASSIVE
RES=$OUT/results.jsonl
: > "$RES"
if [ "$(id -u)" = 0 ] && ! /usr/bin/python3 -c "import faiss, hnswlib" 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-faiss python3-hnswlib libhnswlib-dev >/dev/null 2>&1 || true
fi
for T in 1 2; do
    $BUILD/bench/bench_index --n $N --nq $NQ --threads $T --out "$OUT" | tee -a "$RES"
    if [ -f /usr/include/hnswlib/hnswlib.h ] && command -v g++ >/dev/null; then
        [ -x $BUILD/bench/hnswlib_native ] || g++ -O3 -march=native -std=c++17 -pthread bench/hnswlib_native.cpp -o $BUILD/bench/hnswlib_native
        $BUILD/bench/hnswlib_native "$OUT" $T | tee -a "$RES"
    else
        echo "bench-index: hnswlib headers missing; install with: sudo apt-get install -y libhnswlib-dev g++"
    fi
    /usr/bin/python3 bench/faiss_bench.py "$OUT" $T | tee -a "$RES" || echo "bench-index: python peers failed"
done
/usr/bin/python3 bench/report_index.py "$RES" $N $NQ "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" > "$OUT/section.md"
/usr/bin/python3 - "$OUT/section.md" <<'PY'
import re, sys
sec = open(sys.argv[1]).read()
p = "bench/RESULTS.md"
try:
    s = open(p).read()
except FileNotFoundError:
    s = "# ember benchmark results\n"
block = "<!-- index:begin -->\n" + sec + "<!-- index:end -->\n"
if "<!-- index:begin -->" in s:
    s = re.sub(r"<!-- index:begin -->.*<!-- index:end -->\n", lambda m: block, s, flags=re.S)
else:
    s = s.rstrip("\n") + "\n\n" + block
open(p, "w").write(s)
PY
cat "$OUT/section.md"
