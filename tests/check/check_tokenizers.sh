#!/bin/sh
# make check-tokenizers: differential test of ember's tokenizer against
# HuggingFace `tokenizers` from PyPI (in $BUILD/venv, by bench/venv.sh).
# N (default 100000), SEED (default 13), TOKENIZERS=path,..., SWEEP=0, VARIANTS=0 and
# MAX_MINIMISE pass through the environment; see check_tokenizers.py.
set -u
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
if ! PY=$(sh bench/venv.sh "$BUILD" tokenizers 2>"$BUILD/check-tokenizers.why"); then
    echo "check-tokenizers: skipped: $(cat "$BUILD/check-tokenizers.why")"
    exit 0
fi
# HF's batch encoder would take every core of a shared machine otherwise
RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1} exec "$PY" tests/check/check_tokenizers.py --ember "$BUILD/ember" --build "$BUILD"
