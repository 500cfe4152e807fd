#!/bin/sh
# make bench-qwen3: Qwen3-Embedding-0.6B and Qwen3-Reranker-0.6B shapes
# (random weights from gen_model in the checkpoints' layout, the real Qwen3
# tokenizer, bf16 as shipped), converted by `ember convert` to f32 and bf16,
# against llama.cpp on the same GGUF files and texts; transformers (CPU
# torch, float32) checks ember's outputs first.
# llama.cpp: LLAMA_DIR=path/to/a/llama.cpp checkout (git clone
# https://github.com/ggml-org/llama.cpp); its library is built once with
# -march=native into $LLAMA_BUILD (default $BUILD/llama.cpp-build; cmake, about
# 5 minutes on 2 cores) and bench/llama_peer.c is linked to it.  Without
# LLAMA_DIR the llama.cpp column is skipped, saying so.  transformers comes
# from PyPI into $BUILD/venv (bench/venv.sh); without PyPI it is skipped.
# Writes $BUILD/bench-qwen3/results.jsonl and report.md.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench-qwen3
MODELS=${MODELS:-$BUILD/bench-models}
# GEN="--hidden 256 --layers 2 ...": a smaller model to try the bench out (default: the 0.6B shape)
GEN=${GEN:-}
FIX=${EMBER_FIXTURES:-../shared/fixtures}
ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT" "$MODELS"
[ -f "$FIX/models/qwen3-embed-tiny/tokenizer.json" ] ||
    { echo "bench-qwen3: skipped: no Qwen3 tokenizer at $FIX/models/qwen3-embed-tiny (EMBER_FIXTURES)"; exit 0; }

for kind in embed rerank; do
    hf=$MODELS/qwen3-$kind-hf
    [ -f "$hf/model.safetensors" ] || $BUILD/gen_model --kind qwen3-$kind --out "$hf" --tokenizer-dir "$FIX/models/qwen3-$kind-tiny" --seed 11 $GEN
    for dt in f32 bf16; do
        [ -f "$MODELS/qwen3-$kind-$dt.gguf" ] || ./ember convert "$hf" "$MODELS/qwen3-$kind-$dt.gguf" --dtype $dt --kind $kind >/dev/null
    done
done

LLAMA=1 HF=1
LLAMA_BUILD=${LLAMA_BUILD:-$BUILD/llama.cpp-build}
if [ -z "${LLAMA_DIR:-}" ] && [ ! -f "$LLAMA_BUILD/bin/libllama.so" ]; then
    echo "bench-qwen3: llama.cpp peer skipped: set LLAMA_DIR to a llama.cpp checkout"; LLAMA=0
elif [ ! -f "$LLAMA_BUILD/bin/libllama.so" ] &&
     ! { cmake -S "$LLAMA_DIR" -B "$LLAMA_BUILD" -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF \
               -DCMAKE_BUILD_TYPE=Release && cmake --build "$LLAMA_BUILD" -j"$(nproc)" --target llama; } >"$OUT/llama-build.log" 2>&1; then
    echo "bench-qwen3: llama.cpp peer skipped: its build failed (see $OUT/llama-build.log)"; LLAMA=0
fi
if [ $LLAMA = 1 ]; then
    src=${LLAMA_DIR:-$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$LLAMA_BUILD/CMakeCache.txt")}
    ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$src/include" -I"$src/ggml/include" bench/llama_peer.c \
        -o "$BUILD/bench/llama_peer" -L"$LLAMA_BUILD/bin" -lllama -lggml -lggml-base -lm -Wl,-rpath,"$LLAMA_BUILD/bin"
    LLAMA_COMMIT=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
    export LLAMA_COMMIT
fi
if ! VPY2=$(sh bench/venv.sh "$BUILD" torch transformers numpy 2>"$OUT/venv2.err"); then
    echo "bench-qwen3: transformers check skipped: $(head -1 "$OUT/venv2.err")"; HF=0
fi
# --- the ONNX Runtime peer: transformers' Qwen3 exported once per kind by
# bench/qwen3_ort.py (torch.onnx, float32, weights in $MODELS/qwen3-KIND.onnx.data,
# checked against transformers at export), run on ember's texts with the same
# threads; one row a round (dtype f32, the only graph it runs), its output
# checked against ember f32's first.  torch, transformers, onnx, onnxruntime
# from PyPI into $BUILD/venv; without them the column is skipped, saying so.
ORT=1
if ! VPY3=$(sh bench/venv.sh "$BUILD" torch transformers onnx onnxruntime numpy 2>"$OUT/venv3.err"); then
    echo "bench-qwen3: ONNX Runtime peer skipped: $(head -1 "$OUT/venv3.err")"; ORT=0
fi
for kind in embed rerank; do
    [ $ORT = 1 ] && [ ! -f "$MODELS/qwen3-$kind.onnx" ] || continue
    if "$VPY3" bench/qwen3_ort.py export "$MODELS/qwen3-$kind-hf" $kind "$MODELS/qwen3-$kind.onnx" >"$OUT/ort-export.log" 2>&1; then
        echo "bench-qwen3: $(tail -1 "$OUT/ort-export.log")"
    else
        echo "bench-qwen3: ONNX Runtime peer skipped: the export failed ($(tail -1 "$OUT/ort-export.log"))"; ORT=0
    fi
done
ort_row() { # kind dtype batch threads repeats: right after ember's row of that dtype (its text.json and output)
    [ $ORT = 1 ] && [ $2 = f32 ] || return 0
    "$VPY3" bench/qwen3_ort.py run "$MODELS/qwen3-$1.onnx" $1 "$OUT/text.json" $4 $5 "$OUT/ort.f32" > "$OUT/ort.json"
    if ! "$VPY3" bench/compare.py "$OUT/ember.f32" "$OUT/ort.f32" qwen3-$1 $3 > "$OUT/ort-cmp.txt"; then
        echo "bench-qwen3: ember and ONNX Runtime disagree ($(cat "$OUT/ort-cmp.txt")); no figures"; exit 1
    fi
    sed "s/^{/{\"engine\": \"onnxruntime\", \"kind\": \"qwen3-$1\", \"dtype\": \"f32\", $CPU_JSON\"check\": \"$(cat "$OUT/ort-cmp.txt")\", /" \
        "$OUT/ort.json" >> "$RES"
    tail -1 "$RES"
}
CPU_NAME=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
CPU_FAMILY=$(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1)
CPU_JSON=$(printf '"cpu": "%s", "cpu_family": "%s", ' "$(printf %s "$CPU_NAME" | tr -d '"\\/&')" "$CPU_FAMILY")
RES=$OUT/results.jsonl
# APPEND=1 adds to an earlier run's results (SHAPES / THREADS re-run a part)
[ "${APPEND:-0}" = 1 ] || : > "$RES"

# ember's output against transformers' on the full-size shape, once per kind
check_hf() { # kind
    [ $HF = 1 ] || return 0
    extra=""; [ $1 = rerank ] && extra=--rerank
    $BUILD/bench/bench_embed "$MODELS/qwen3-$1-f32.gguf" $extra --batch 1 --tokens 32 --threads 2 --repeats 1 \
        --text-out "$OUT/check.json" --out "$OUT/ember-check.f32" >/dev/null
    "$VPY2" bench/qwen3_peers.py hf-$1 "$MODELS/qwen3-$1-hf" "$OUT/check.json" "$OUT/hf.f32" >/dev/null
    k=qwen3-embed-abs; [ $1 = rerank ] && k=qwen3-rerank
    "$VPY2" bench/compare.py "$OUT/ember-check.f32" "$OUT/hf.f32" $k 1 1e-4 > "$OUT/check.txt" ||
        { echo "bench-qwen3: ember and transformers disagree on $1 ($(cat "$OUT/check.txt")); no figures"; exit 1; }
    echo "bench-qwen3: $1 vs transformers float32: $(cat "$OUT/check.txt")"
}
[ "${APPEND:-0}" = 1 ] || check_hf embed
[ "${APPEND:-0}" = 1 ] || check_hf rerank

# llama.cpp on the same file and input; its output must agree with ember's
# (in $OUT/ember.f32) before its timing counts
llama_row() { # kind mode
    "$BUILD/bench/llama_peer" "$g" "$OUT/llama-input.txt" $B $T $R "$OUT/llama.f32" $2 > "$OUT/llama.json"
    # llama.cpp multiplies bf16 weights with bf16-rounded activations (its
    # logits move by ~1e-2 there) and keeps K/V in f16 with flash attention
    # (a few 1e-3 on the 0.6B reranker's logit with f32 weights, 2.6e-2
    # with bf16 ones; with f32 K/V it meets the goldens to 1e-6:
    # bench/llama_interop.py)
    tol=""; [ $1 = rerank ] && tol=1e-2; [ $1 = rerank ] && [ $dt = bf16 ] && tol=5e-2
    if ! python3 bench/compare.py "$OUT/ember.f32" "$OUT/llama.f32" qwen3-$1 $B $tol > "$OUT/cmp.txt"; then
        echo "bench-qwen3: ember and llama.cpp ($2) disagree ($(cat "$OUT/cmp.txt")); no figures"; exit 1
    fi
    sed "s/^{/{\"engine\": \"llama.cpp\", \"mode\": \"$2\", \"kind\": \"qwen3-$1\", \"dtype\": \"$dt\", $CPU_JSON\"check\": \"$(cat "$OUT/cmp.txt")\", /" \
        "$OUT/llama.json" >> "$RES"
    tail -1 "$RES"
}

run_shape() { # kind batch tokens repeats [rounds]
    kind=$1 B=$2 L=$3 R=$4 NR=${5:-$ROUNDS} extra=""
    [ $kind = rerank ] && extra=--rerank
    for T in ${THREADS:-1 2}; do
      for round in $(seq $NR); do
        for dt in f32 bf16; do
            g=$MODELS/qwen3-$kind-$dt.gguf
            $BUILD/bench/bench_embed "$g" $extra --batch $B --tokens $L --threads $T --repeats $R \
                --text-out "$OUT/text.json" --out "$OUT/ember.f32" |
                sed "s/^{/{\"engine\": \"ember\", \"kind\": \"qwen3-$kind\", \"dtype\": \"$dt\", $CPU_JSON/" >> "$RES"
            tail -1 "$RES"
            ort_row $kind $dt $B $T $R
            [ $LLAMA = 1 ] || continue
            python3 bench/qwen3_peers.py prompt $kind "$OUT/text.json" "$OUT/llama-input.txt"
            llama_row $kind $kind
            if [ $kind = rerank ]; then llama_row rerank rerank-lm; fi
        done
      done
    done
}
# SHAPES: which of query, docs, rerank to run (default all)
for shape in ${SHAPES:-query docs rerank}; do
    case $shape in
    query) run_shape embed 1 32 ${REPEATS_QUERY:-5} ;;
    docs) run_shape embed 8 256 ${REPEATS_DOCS:-2} ;;
    # one query x 20 documents; 200 tokens a pair before the reranker's prompt (about 60 more)
    rerank) run_shape rerank 20 200 ${REPEATS_DOCS:-2} ${ROUNDS_RERANK:-$ROUNDS} ;;
    *) echo "bench-qwen3: SHAPES holds query, docs or rerank, not $shape"; exit 2 ;;
    esac
done
"${EMBER_PYTHON:-python3}" bench/report_qwen3.py "$RES" > "$OUT/report.md"
cat "$OUT/report.md"
