#!/bin/sh
# make bench-tokenizers: tokenizer throughput (MB/s of text, one thread) of
# ember against HuggingFace `tokenizers` (PyPI, in $BUILD/venv by
# bench/venv.sh; skipped without PyPI, saying so) on the same corpus: SIZE
# bytes (default 10^7) of mixed-language documents built by bench/tok_corpus.py
# from tests/check/real_sentences.txt (SEED, default 14).  Tokenizers, from
# the fixtures, each converted by `ember convert --vocab-only`: WordPiece
# (bert-uncased, bert-chinese), SentencePiece Unigram (Pegasus', the fixtures'
# stand-in for XLM-R's) and byte-level BPE (Qwen3-Embedding's, or
# Qwen3's when that model folder is absent).  ONLY=bert-uncased,qwen3-embedding
# picks some.  ROUNDS (default 2) alternate ember and HF; each run is one
# warm-up pass then REPEATS (default 5) timed passes.  HF's ids must equal
# ember's on every document before its timings count.
# Writes $BUILD/bench-tok/corpus.txt, results.jsonl and report.md.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench-tok
FIX=${EMBER_FIXTURES:-../shared/fixtures}
SIZE=${SIZE:-10000000}
SEED=${SEED:-14}
ROUNDS=${ROUNDS:-2}
REPEATS=${REPEATS:-5}
ONLY=${ONLY:-}
HOST_PY=${EMBER_PYTHON:-python3}
mkdir -p "$OUT"

# name:folder of each tokenizer there is
LIST=""
for t in bert-uncased bert-chinese sentencepiece-unigram; do
    [ -f "$FIX/tokenizers/$t/tokenizer.json" ] && LIST="$LIST $t:$FIX/tokenizers/$t"
done
if [ -f "$FIX/models/qwen3-embed-tiny/tokenizer.json" ]; then
    LIST="$LIST qwen3-embedding:$FIX/models/qwen3-embed-tiny"
elif [ -f "$FIX/tokenizers/qwen3/tokenizer.json" ]; then
    LIST="$LIST qwen3:$FIX/tokenizers/qwen3"
fi
if [ -n "$ONLY" ]; then
    KEEP=""
    for e in $LIST; do
        case ",$ONLY," in *",${e%%:*},"*) KEEP="$KEEP $e" ;; esac
    done
    LIST=$KEEP
fi
[ -n "$LIST" ] || { echo "bench-tokenizers: skipped: no tokenizer fixtures at $FIX (EMBER_FIXTURES)${ONLY:+ named in ONLY=$ONLY}"; exit 0; }

"$HOST_PY" bench/tok_corpus.py tests/check/real_sentences.txt "$OUT/corpus.txt" --size "$SIZE" --seed "$SEED"
for e in $LIST; do
    "$BUILD/ember" convert "${e#*:}" "$OUT/${e%%:*}.gguf" --vocab-only >/dev/null
done

HF=1
if ! VPY=$(sh bench/venv.sh "$BUILD" tokenizers 2>"$OUT/venv.err"); then
    echo "bench-tokenizers: HuggingFace tokenizers skipped: $(head -1 "$OUT/venv.err")"; HF=0
fi
CPU_NAME=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
CPU_FAMILY=$(lscpu 2>/dev/null | sed -n 's/^CPU family: *//p' | head -1)
CPU_JSON=$(printf '"cpu": "%s", "cpu_family": "%s", ' "$(printf %s "$CPU_NAME" | tr -d '"\\/&')" "$CPU_FAMILY")
RES=$OUT/results.jsonl
: > "$RES"
for round in $(seq "$ROUNDS"); do
    for e in $LIST; do
        name=${e%%:*} dir=${e#*:}
        "$BUILD/bench/bench_tokenizer" "$OUT/$name.gguf" "$OUT/corpus.txt" --repeats "$REPEATS" --name "$name" \
            --ids-out "$OUT/$name.ids" > "$OUT/ember.json"
        sed "s/^{/{$CPU_JSON\"round\": $round, /" "$OUT/ember.json" >> "$RES"
        tail -1 "$RES"
        [ $HF = 1 ] || continue
        if ! "$VPY" bench/tok_peer.py "$dir/tokenizer.json" "$OUT/corpus.txt" "$OUT/$name.ids" \
                --repeats "$REPEATS" --name "$name" > "$OUT/peer.json"; then
            echo "bench-tokenizers: ember and HuggingFace tokenizers disagree on $name (above); no figures"
            exit 1
        fi
        sed "s/^{/{$CPU_JSON\"round\": $round, /" "$OUT/peer.json" >> "$RES"
        tail -2 "$RES"
    done
done
"$HOST_PY" bench/report_tok.py "$RES" > "$OUT/report.md"
cat "$OUT/report.md"
