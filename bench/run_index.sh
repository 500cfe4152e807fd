#!/bin/sh
# make bench-index: ember's index vs hnswlib (compiled here -march=native from
# Debian's libhnswlib-dev headers), FAISS (the faiss-cpu wheel) and usearch,
# the two from PyPI in $BUILD/venv (bench/venv.sh), on the same generated
# vectors, same queries, exact ground truth; results into the "Vector index"
# section of bench/RESULTS.md.  Without PyPI the Python peers are skipped (one
# line says so) and ember and hnswlib run as before.
# N=200000 NQ=2000 by default (override: make bench-index N=50000).
# ONLY=ivfpq (or hnsw, binary; a comma list) re-measures those families, with
# their peers, and keeps the other rows of the last run's results.jsonl.
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
ONLY=${ONLY:-}
if [ -n "$ONLY" ] && [ -s "$RES" ]; then
    KEEP=$OUT/results.keep.jsonl
    cp "$RES" "$KEEP"
else
    ONLY=""
    KEEP=""
fi
: > "$RES"
HNSW_H=/usr/include/hnswlib/hnswlib.h
if [ "$(id -u)" = 0 ] && { [ ! -f $HNSW_H ] || ! command -v g++ >/dev/null; }; then
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhnswlib-dev g++ ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhnswlib-dev g++; }; } >/dev/null 2>&1 || true
fi
# FAISS and usearch from PyPI, into the one venv; numpy is what they take and give
PEERS_PY=""
if PEERS_PY=$(sh bench/venv.sh "$BUILD" faiss-cpu usearch numpy 2>"$OUT/venv.err"); then
    :
else
    WHY=$(tail -n 1 "$OUT/venv.err")
    echo "bench-index: PyPI peers skipped: $WHY"
    /usr/bin/python3 -c 'import json, sys; print(json.dumps({"engine": "faiss, usearch", "skipped": "PyPI peers: " + sys.argv[1]}))' "$WHY" >> "$RES"
    PEERS_PY=""
fi
for T in 1 2; do
    $BUILD/bench/bench_index --n $N --nq $NQ --threads $T --out "$OUT" ${ONLY:+--only $ONLY} | tee -a "$RES"
    if [ -n "$ONLY" ] && ! echo "$ONLY" | grep -q hnsw; then
        :
    elif [ -f $HNSW_H ] && command -v g++ >/dev/null; then
        [ $BUILD/bench/hnswlib_native -nt bench/hnswlib_native.cpp ] ||
            g++ -O3 -march=native -std=c++17 -pthread bench/hnswlib_native.cpp -o $BUILD/bench/hnswlib_native
        HDR=$(dpkg-query -W -f='${Status} ${Version}' libhnswlib-dev 2>/dev/null | sed -n 's/^install ok installed /libhnswlib-dev /p')
        $BUILD/bench/hnswlib_native "$OUT" $T "${HDR:-$HNSW_H}" | tee -a "$RES"
    else
        echo "bench-index: hnswlib headers missing; install with: sudo apt-get install -y libhnswlib-dev g++"
    fi
    if [ -n "$PEERS_PY" ]; then
        for P in faiss usearch; do
            { "$PEERS_PY" bench/${P}_bench.py "$OUT" $T "$ONLY" ||
              echo "{\"engine\": \"$P\", \"skipped\": \"bench/${P}_bench.py failed with $T threads (its error is above)\"}"; } | tee -a "$RES"
        done
    fi
done
if [ -n "$KEEP" ]; then
    # rows of families not re-measured come from the previous run (flat rows are always re-measured)
    /usr/bin/python3 - "$KEEP" "$RES" "$ONLY" <<'PY'
import datetime, json, sys
keep, res, only = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
fam = lambda r: next((f for f in ("hnsw", "binary", "ivfpq", "flat") if r.get("index", "").startswith(f)), None)
# peak RSS rows stay those of the full run (all indexes built in one process)
new = [l for l in open(res) if l.strip().startswith("{") and "peak_rss_mb" not in json.loads(l)]
old = [l for l in open(keep) if l.strip().startswith("{")]
kept = [l for l in old if "rerun" not in json.loads(l) and "note" not in json.loads(l) and fam(json.loads(l)) not in only + ["flat"]]
# which run each family's rows come from (families not named: the last full run)
notes = [l for l in old if "rerun" in json.loads(l) and json.loads(l)["rerun"] not in only]
notes += [json.dumps({"rerun": f, "date": str(datetime.date.today()), "cmd": f"make bench-index ONLY={','.join(only)}"}) + "\n"
          for f in only]
open(res, "w").write("".join(notes) + "".join(kept) + "".join(new))
PY
fi
CPU="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), family $(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1) model $(lscpu 2>/dev/null | sed -n 's/^Model: *//p' | head -1)"
/usr/bin/python3 bench/report_index.py "$RES" $N $NQ "$CPU" > "$OUT/section.md"
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
