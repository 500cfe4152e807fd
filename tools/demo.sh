#!/bin/sh
# make demo: convert a model, embed a small corpus, rerank candidates for a
# query, print results and timings.  Works offline on a fresh clone.
set -e
cd "$(dirname "$0")/.."
FIX="${EMBER_FIXTURES:-../shared/fixtures}"
OUT=build/demo
mkdir -p "$OUT"
now() { date +%s.%N; }
el() { echo "$2 - $1" | bc 2>/dev/null || awk "BEGIN{print $2 - $1}"; }

if [ -d "$FIX/models/minilm-embed-tiny" ]; then
    EMB_SRC="$FIX/models/minilm-embed-tiny"
    CROSS_SRC="$FIX/models/minilm-cross-tiny"
    echo "== models: $EMB_SRC and $CROSS_SRC"
    echo "   (shared fixtures: real HuggingFace layout and tokenizer, RANDOM weights,"
    echo "    so scores are exact arithmetic but carry no meaning)"
else
    echo "== no fixtures at $FIX: generating tiny RANDOM-weight models (scores carry no meaning)"
    build/gen_model --kind embed --out "$OUT/embed-hf" --hidden 64 --layers 2 --heads 4 --ffn 256 --seed 1
    build/gen_model --kind cross --out "$OUT/cross-hf" --hidden 64 --layers 2 --heads 4 --ffn 256 --seed 2
    EMB_SRC="$OUT/embed-hf"; CROSS_SRC="$OUT/cross-hf"
fi

echo; echo "== convert (HuggingFace folder -> GGUF)"
t0=$(now); ./ember convert "$EMB_SRC" "$OUT/embed.gguf"; ./ember convert "$CROSS_SRC" "$OUT/cross.gguf"; t1=$(now)
echo "   converted both in $(el "$t0" "$t1") s"
./ember info "$OUT/embed.gguf"

echo; echo "== embed tools/demo/corpus.txt (first 6 dims shown)"
t0=$(now); ./ember embed -m "$OUT/embed.gguf" -i tools/demo/corpus.txt > "$OUT/corpus.jsonl"; t1=$(now)
n=$(wc -l < "$OUT/corpus.jsonl")
sed -E 's/("embedding": \[)(([^,]*,){6}).*/\1\2 ...]}/' "$OUT/corpus.jsonl" | head -4
echo "   ... $n embeddings in $(el "$t0" "$t1") s (model load included)"

Q="What is the capital of France?"
echo; echo "== rerank the corpus for: $Q  (top 3)"
t0=$(now); ./ember rerank -m "$OUT/cross.gguf" -q "$Q" -i tools/demo/corpus.txt --top 3 > "$OUT/rerank.jsonl"; t1=$(now)
while IFS= read -r line; do
    i=$(echo "$line" | sed -E 's/.*"index": ([0-9]+).*/\1/')
    echo "   $line  <- $(sed -n "$((i + 1))p" tools/demo/corpus.txt)"
done < "$OUT/rerank.jsonl"
echo "   reranked $(wc -l < tools/demo/corpus.txt) documents in $(el "$t0" "$t1") s (model load included)"
echo; echo "== index the corpus (HNSW, cosine) and search it, then rerank the index's top 5"
t0=$(now)
./ember index build -m "$OUT/embed.gguf" -i tools/demo/corpus.txt -o "$OUT/corpus.emb" --type hnsw 2>&1 | sed 's/^/   /'
./ember search -x "$OUT/corpus.emb" -m "$OUT/embed.gguf" -q "$Q" -k 3 | sed 's/^/   /'
echo "   -- two-stage: index top 5, cross-encoder picks 2:"
./ember search -x "$OUT/corpus.emb" -m "$OUT/embed.gguf" -q "$Q" --rerank "$OUT/cross.gguf" --candidates 5 --top 2 | sed 's/^/   /'
t1=$(now)
echo "   indexed and searched in $(el "$t0" "$t1") s (model loads included)"
echo; echo "demo done: outputs in $OUT/"
