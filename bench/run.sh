#!/bin/sh
# make bench: ember vs its own scalar path vs ONNX Runtime on the SAME weights
# (random-weight models with the real dimensions of all-MiniLM-L6-v2 and
# ms-marco-MiniLM-L-6-v2, generated and converted the way a user would), and
# ember's GEMM vs OpenBLAS.  Writes bench/RESULTS.md.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench-out
MODELS=$BUILD/bench-models
mkdir -p "$OUT" "$MODELS"
# Each engine runs in its own process, so no two thread pools fight: OpenMP keeps
# its default wait policy (a short spin, then sleep), as ORT keeps its spinning pool.
# (OMP_WAIT_POLICY=PASSIVE would cost ember ~60 futex wake-ups per 16-token query.)
FIX=${EMBER_FIXTURES:-../shared/fixtures}
VOCAB=""
[ -f "$FIX/tokenizers/bert-uncased/vocab.txt" ] && VOCAB="--vocab-file $FIX/tokenizers/bert-uncased/vocab.txt"

for kind in embed cross; do
    if [ ! -f "$MODELS/$kind.gguf" ]; then
        # max_seq_length 512 (all-MiniLM-L6-v2 ships 256) so the 32 x 512 shape is not truncated
        $BUILD/gen_model --kind $kind --out "$MODELS/$kind-hf" $VOCAB --seed 7 --max-seq 512
        ./ember convert "$MODELS/$kind-hf" "$MODELS/$kind.gguf" >/dev/null
    fi
done

# --- the ONNX Runtime peer (optional): onnxruntime, onnx and numpy from PyPI,
# installed by bench/venv.sh into the one venv $BUILD/venv (never elsewhere) ---
ORT=1
if ! VPY=$(sh bench/venv.sh "$BUILD" onnxruntime onnx numpy 2>"$OUT/venv.err"); then
    echo "bench: ONNX Runtime peer skipped: $(head -1 "$OUT/venv.err")"; ORT=0
fi
if [ $ORT = 1 ]; then
    # prove the exporter (and ORT) on the fixtures' goldens before it serves as a peer
    for fx in minilm-embed-tiny minilm-cross-tiny; do
        [ -d "$FIX/models/$fx" ] || continue
        "$VPY" bench/check_export.py "$FIX/models/$fx" "$OUT/check-$fx" 2>/dev/null | tail -1 | grep -q PASS ||
            { echo "bench: bench/check_export.py failed on $fx; ONNX peer not trusted"; exit 1; }
    done
    for kind in embed cross; do
        [ -f "$MODELS/$kind.onnx" ] || "$VPY" bench/export_onnx.py "$MODELS/$kind-hf" "$MODELS/$kind.onnx"
    done
fi
# what every row records of the machine: the CPU's model name and family (the
# ISA each ember row used comes from bench_embed, ORT's version from ort_bench.py)
CPU_NAME=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
CPU_FAMILY=$(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1)
CPU_DESC=$CPU_NAME${CPU_FAMILY:+ (family $CPU_FAMILY)}
CPU_JSON=$(printf '"cpu": "%s", "cpu_family": "%s", ' "$(printf %s "$CPU_NAME" | tr -d '"\\/&')" "$CPU_FAMILY")

RES=$OUT/results.jsonl
: > "$RES"
# ember's SIMD paths on this machine, best first (the scalar one is added to the first shape)
case $(uname -m) in
    aarch64) SIMD="neon" ;;
    *) SIMD="avx512 avx2" ;;
esac

run_shape() { # kind batch tokens repeats isas [rounds]
    kind=$1 B=$2 L=$3 R=$4 isas=$5 rounds=${6:-${ROUNDS:-2}} extra=""
    [ $kind = cross ] && extra=--rerank
    for T in 1 2; do
      # ROUNDS interleaved rounds (ember, ORT, ember, ORT, ...); the report keeps
      # each engine's best median, so a burst of noise on this shared machine
      # in one round does not decide a ratio
      for round in $(seq $rounds); do
        for isa in $isas; do
            # a path this CPU lacks would fall back to another and be counted twice
            [ $isa = avx512 ] && ! grep -qw avx512f /proc/cpuinfo && continue
            # the scalar path is the yardstick, not a contender: one round is enough
            [ $isa = scalar ] && [ $round -gt 1 ] && continue
            r=$R; [ $isa = scalar ] && [ $R -gt 10 ] && r=10 # ~0.2 s a call: 10 are enough for a yardstick
            EMBER_ISA=$isa $BUILD/bench/bench_embed "$MODELS/$kind.gguf" $extra --batch $B --tokens $L --threads $T \
                --repeats $r --ids-out "$OUT/ids.json" --out "$OUT/ember.f32" | sed "s/^{/{\"engine\": \"ember\", \"kind\": \"$kind\", $CPU_JSON/" >> "$RES"
            tail -1 "$RES"
        done
        if [ $ORT = 1 ]; then
            "$VPY" bench/ort_bench.py "$MODELS/$kind.onnx" "$OUT/ids.json" $T $R "$OUT/ort.f32" > "$OUT/ort.json" ||
                { echo "bench: bench/ort_bench.py failed; no figures written"; exit 1; }
            # same weights, same ids: the outputs must agree before a timing counts
            if ! "$VPY" bench/compare.py "$OUT/ember.f32" "$OUT/ort.f32" $kind $B > "$OUT/cos.txt"; then
                echo "bench: ember and ONNX Runtime disagree ($(cat "$OUT/cos.txt")); no figures written"; exit 1
            fi
            sed "s/^{/{\"engine\": \"onnxruntime\", \"kind\": \"$kind\", \"isa\": \"ort\", $CPU_JSON\"check\": \"$(cat "$OUT/cos.txt")\", /" "$OUT/ort.json" >> "$RES"
            tail -1 "$RES"
        fi
      done
    done
}
# single queries take milliseconds: more rounds, so one noisy burst decides less
run_shape embed 1 16 100 "$SIMD scalar" ${ROUNDS_QUERY:-5}
# a query of typical length (17..160 rows take the broadcast GEMM on AVX2)
run_shape embed 1 48 40 "$SIMD" ${ROUNDS_QUERY:-5}
run_shape embed 32 128 4 "$SIMD"
run_shape embed 32 512 2 "$SIMD"
run_shape cross 100 64 4 "$SIMD"

make -s BUILD=$BUILD $BUILD/bench/bench_gemm BENCH_LIBS=-lopenblas >/dev/null 2>&1 && GEMM=1 || GEMM=0
[ $GEMM = 1 ] && OPENBLAS_NUM_THREADS=2 $BUILD/bench/bench_gemm > "$OUT/gemm.md"
# report.py needs only the standard library: the host's python3 (as bench/venv.sh
# uses), so the report is written whether or not the venv could be made
"${EMBER_PYTHON:-python3}" bench/report.py "$RES" "$OUT/gemm.md" "$CPU_DESC" > "$OUT/RESULTS.md"
# keep the index section written by `make bench-index`
[ -f bench/RESULTS.md ] && sed -n '/<!-- index:begin -->/,$p' bench/RESULTS.md >> "$OUT/RESULTS.md" # the index section and what follows it
cp "$OUT/RESULTS.md" bench/RESULTS.md
cat bench/RESULTS.md
