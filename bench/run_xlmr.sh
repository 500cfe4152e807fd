#!/bin/sh
# make bench-xlmr: an XLM-R-base-shaped cross-encoder (bge-reranker-base's
# architecture: hidden 768, 12 layers, 12 heads, FFN 3072, vocab 250,002,
# random weights, f32) reranking 1 query x 100 documents of 128 tokens, 1 and
# 2 threads, ember against ONNX Runtime on the same weights and token ids.
# bench/gen_xlmr.py writes the HF folder once (transformers' own class, an
# XLM-R-structured Unigram tokenizer.json of 250,002 pieces from the shared
# Unigram fixture), `ember convert` makes the GGUF and bench/export_onnx.py
# the ONNX graph (proven first on the xlmr-cross-tiny fixture's goldens by
# bench/check_export.py).  Before any timing, HF `tokenizers` must give
# ember's ids and transformers' logits must equal ember's; in every round ORT's
# logits must equal ember's: max |diff| < TOL (default 1e-4, 0.1% of this
# model's logits of ~0.1; float32 engines agree to a few 1e-7 here).  It
# catches a wrong structure (positions, a bias or norm dropped, the head);
# approximations that move these logits by ~1e-5 (a tanh GELU, LayerNorm eps
# 1e-12) are the fixture tests' to catch, against float64 goldens.  torch, transformers,
# tokenizers, onnx, onnxruntime come from PyPI into $BUILD/venv
# (bench/venv.sh); without them the bench is skipped, saying so.
# Files: $MODELS/$TAG-hf, $TAG.gguf, $TAG.onnx (MODELS default
# $BUILD/bench-models, TAG xlmr-base), kept for the next run; results in
# $BUILD/bench-xlmr/results.jsonl and report.md.
# SHAPE="BATCH TOKENS REPEATS" (default "100 128 3"), ROUNDS (2), THREADS
# ("1 2"); GEN="--layers 2 --hidden 64 --heads 4 --ffn 256" generates a
# smaller model (TAG xlmr-small unless TAG is given) to try the bench out.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench-xlmr
MODELS=${MODELS:-$BUILD/bench-models}
FIX=${EMBER_FIXTURES:-../shared/fixtures}
ROUNDS=${ROUNDS:-2}
TOL=${TOL:-1e-4}
GEN=${GEN:-}
if [ -n "$GEN" ]; then TAG=${TAG:-xlmr-small}; else TAG=${TAG:-xlmr-base}; fi
set -- ${SHAPE:-100 128 3}
B=$1 L=$2 R=$3
mkdir -p "$OUT" "$MODELS"
UNIGRAM=$FIX/tokenizers/sentencepiece-unigram
[ -f "$UNIGRAM/tokenizer.json" ] ||
    { echo "bench-xlmr: skipped: no Unigram tokenizer at $UNIGRAM (EMBER_FIXTURES)"; exit 0; }
if ! VPY=$(sh bench/venv.sh "$BUILD" torch transformers safetensors tokenizers onnx onnxruntime numpy 2>"$OUT/venv.err"); then
    echo "bench-xlmr: skipped: $(head -1 "$OUT/venv.err")"; exit 0
fi

HF=$MODELS/$TAG-hf GGUF=$MODELS/$TAG.gguf ONNX=$MODELS/$TAG.onnx
if [ ! -f "$HF/model.safetensors" ]; then
    "$VPY" bench/gen_xlmr.py "$UNIGRAM" "$HF" --seed 17 $GEN >"$OUT/gen.log" 2>&1 ||
        { echo "bench-xlmr: bench/gen_xlmr.py failed (see $OUT/gen.log)"; exit 1; }
    tail -1 "$OUT/gen.log"
    rm -f "$GGUF" "$ONNX" # made from an older folder
fi
[ -f "$GGUF" ] || $BUILD/ember convert "$HF" "$GGUF" >/dev/null
# prove the exporter (and ORT) on the XLM-R fixture's goldens before it serves as a peer
if [ -d "$FIX/models/xlmr-cross-tiny" ]; then
    "$VPY" bench/check_export.py "$FIX/models/xlmr-cross-tiny" "$OUT/check-xlmr-cross-tiny" 2>/dev/null | tail -1 | grep -q PASS ||
        { echo "bench-xlmr: bench/check_export.py failed on xlmr-cross-tiny; ONNX peer not trusted"; exit 1; }
fi
[ -f "$ONNX" ] || "$VPY" bench/export_onnx.py "$HF" "$ONNX"

CPU_NAME=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
CPU_FAMILY=$(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1)
CPU_JSON=$(printf '"cpu": "%s", "cpu_family": "%s", ' "$(printf %s "$CPU_NAME" | tr -d '"\\/&')" "$CPU_FAMILY")

# ember against HF's own code on two pairs of the bench's length: the ids
# (tokenizers) and the logits (transformers, float32)
$BUILD/bench/bench_embed "$GGUF" --rerank --batch 2 --tokens "$L" --threads 2 --repeats 1 \
    --ids-out "$OUT/check-ids.json" --text-out "$OUT/check-text.json" --out "$OUT/ember-check.f32" >/dev/null
"$VPY" bench/xlmr_check.py "$HF" "$OUT/check-ids.json" "$OUT/check-text.json" "$OUT/hf.f32" >"$OUT/hf-check.log" 2>&1 ||
    { echo "bench-xlmr: ember and HuggingFace disagree: $(tail -1 "$OUT/hf-check.log")"; exit 1; }
"$VPY" bench/compare.py "$OUT/ember-check.f32" "$OUT/hf.f32" cross 2 "$TOL" >"$OUT/hf-cmp.txt" ||
    { echo "bench-xlmr: ember and transformers disagree ($(cat "$OUT/hf-cmp.txt")); no figures"; exit 1; }
echo "bench-xlmr: $(tail -1 "$OUT/hf-check.log"); ember vs transformers: $(cat "$OUT/hf-cmp.txt")"

RES=$OUT/results.jsonl
: > "$RES"
for T in ${THREADS:-1 2}; do
    # ROUNDS interleaved rounds (ember, ORT, ember, ORT, ...): the report keeps
    # each engine's best median and the ratio within each round
    for round in $(seq "$ROUNDS"); do
        $BUILD/bench/bench_embed "$GGUF" --rerank --batch "$B" --tokens "$L" --threads "$T" --repeats "$R" \
            --ids-out "$OUT/ids.json" --out "$OUT/ember.f32" |
            sed "s/^{/{\"engine\": \"ember\", \"kind\": \"xlmr-cross\", $CPU_JSON/" >> "$RES"
        tail -1 "$RES"
        "$VPY" bench/ort_bench.py "$ONNX" "$OUT/ids.json" "$T" "$R" "$OUT/ort.f32" > "$OUT/ort.json" ||
            { echo "bench-xlmr: bench/ort_bench.py failed; no figures"; exit 1; }
        # same weights, same ids: the logits must agree before a timing counts
        if ! "$VPY" bench/compare.py "$OUT/ember.f32" "$OUT/ort.f32" cross "$B" "$TOL" > "$OUT/cmp.txt"; then
            echo "bench-xlmr: ember and ONNX Runtime disagree ($(cat "$OUT/cmp.txt")); no figures"; exit 1
        fi
        sed "s/^{/{\"engine\": \"onnxruntime\", \"kind\": \"xlmr-cross\", $CPU_JSON\"check\": \"$(cat "$OUT/cmp.txt")\", /" \
            "$OUT/ort.json" >> "$RES"
        tail -1 "$RES"
    done
done
TOL=$TOL "${EMBER_PYTHON:-python3}" bench/report_xlmr.py "$RES" "$GGUF" "$ONNX" "$HF" "$OUT/ids.json" \
    "$CPU_NAME${CPU_FAMILY:+ (family $CPU_FAMILY)}" > "$OUT/report.md"
cat "$OUT/report.md"
