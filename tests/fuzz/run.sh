#!/bin/sh
# make fuzz, and the last stage of make test.  Builds the libFuzzer harnesses
# into build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined; the library
# single-threaded, OPENMP=, with -fsanitize=fuzzer-no-link,address,undefined),
# generates the seed corpora there, runs every saved crash input through its
# harness, then fuzzes each harness FUZZ_S seconds.  Skips, with one line and
# status 0, where clang or its libFuzzer runtime is missing.
#   FUZZ_S     seconds per harness (default 30 when CI=true, else 5)
#   FUZZ_JOBS  harnesses run at once (default 2 when CI=true, else 1)
#   FUZZ_ONLY  harness names to run (default: all), e.g. "config jsonl"
#   FUZZ_RUNS  stop each harness after this many executions (FUZZ_S still caps the time)
# New inputs accumulate in build-fuzz/corpus/<harness>/; crash inputs land in
# build-fuzz/crashes/<harness>/, logs in build-fuzz/logs/.
cd "$(dirname "$0")/../.." || exit 1
B=build-fuzz
FCC=${FUZZ_CC:-clang}
FIX=${EMBER_FIXTURES:-../shared/fixtures}
if [ -z "${FUZZ_S:-}" ]; then if [ "${CI:-}" = true ]; then FUZZ_S=30; else FUZZ_S=5; fi; fi
if [ -z "${FUZZ_JOBS:-}" ]; then if [ "${CI:-}" = true ]; then FUZZ_JOBS=2; else FUZZ_JOBS=1; fi; fi
ALL="model index index_raw config tokenizer safetensors jsonl bpe unigram"
ONLY=${FUZZ_ONLY:-$ALL}

skip() { echo "fuzz: SKIPPED: $1 (sh tools/check_deps.sh installs clang and libclang-rt-dev as root)"; exit 0; }
command -v "$FCC" >/dev/null 2>&1 || skip "no $FCC"
mkdir -p $B/probe $B/logs
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > $B/probe/probe.c
"$FCC" -fsanitize=fuzzer,address,undefined $B/probe/probe.c -o $B/probe/probe >/dev/null 2>&1 ||
    skip "$FCC cannot link -fsanitize=fuzzer,address,undefined (no libFuzzer runtime)"

echo "fuzz: building the harnesses in $B/ (log: $B/logs/build.log)"
FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
# the SIMD tables at -O0: clang's -O1 with ASan + UBSan takes minutes per
# table over their always-inlined kernels (seconds at -O0); the harnesses
# fuzz the readers, and the kernels stay sanitized, only slower
if ! ${MAKE:-make} --no-print-directory -j2 BUILD=$B CC="$FCC" OPENMP= CFLAGS="$FLAGS" SIMD_CFLAGS=-O0 fuzz-bins >$B/logs/build.log 2>&1; then
    tail -20 $B/logs/build.log
    echo "fuzz: FAILED to build the harnesses"
    exit 1
fi

# seed corpora: regenerated every run (deterministic), never committed
S=$B/seeds
rm -rf $S $B/tmp
mkdir -p $S $B/tmp
if ! { $B/gen_model --kind embed --out $S/hf-embed --hidden 8 --layers 1 --heads 2 --ffn 16 --max-pos 16 --max-seq 12 \
           --vocab-size 400 --seed 1 &&
       $B/gen_model --kind cross --out $S/hf-cross --hidden 8 --layers 1 --heads 2 --ffn 16 --max-pos 16 \
           --vocab-size 400 --dtype f16 --seed 2 &&
       $B/fuzz/gen_seeds $S $S/hf-embed $S/hf-cross "$FIX"; } >$B/logs/seeds.log 2>&1; then
    cat $B/logs/seeds.log
    echo "fuzz: FAILED to generate the seed corpora"
    exit 1
fi
# texts for fuzz_bpe (its first byte picks the split pattern) and fuzz_unigram
# (its first byte even: text for one of its tokenizers, odd: charsmap edits)
mkdir -p $S/text
printf '\000Hello world, caf\303\251 1234 <x> <|e|>ab it'"'"'s' > $S/text/1
printf '\001aaaa   ab\n\n  \r\n e\314\201\314\243 <xy>\302\240x' > $S/text/2
printf '\004 AB  ab<m>  \303\251\314\201 </s>a\342\226\201b\t\000x' > $S/text/3
printf '\003\101\001\040\377\377\011\000\000\007' > $S/text/4
export TMPDIR="$PWD/$B/tmp" EMBER_FUZZ_HF="$S/hf-embed"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"

# per harness: seed folder, -max_len, dictionary, extra flags
opts() {
    case $1 in
    model)       echo "model 65536 tests/fuzz/gguf.dict" ;;
    index)       echo "index 32768 -" ;;
    index_raw)   echo "index 32768 -" ;;
    config)      echo "config 8192 tests/fuzz/json.dict" ;;
    tokenizer)   echo "tokenizer 16384 tests/fuzz/json.dict" ;;
    safetensors) echo "safetensors 32768 tests/fuzz/json.dict" ;;
    jsonl)       echo "jsonl 4096 tests/fuzz/json.dict -close_fd_mask=2" ;;  # cli_inputs_read reports on stderr
    bpe)         echo "text 4096 -" ;;
    unigram)     echo "text 4096 -" ;;  # first byte even: text; odd: charsmap edits
    esac
}
LIMITS="-timeout=10 -rss_limit_mb=2048"

fail=0
# crash inputs found earlier (shared fixtures) and here (tests/fuzz/crashes): each must now pass
for h in $ONLY; do
    set -- $(opts $h)
    n=0; bad=0
    rm -f $B/logs/regress-$h.why
    for f in "$FIX/crashes/$h"/* "tests/fuzz/crashes/$h"/*; do
        [ -f "$f" ] && [ "$(basename "$f")" != README.md ] || continue
        n=$((n + 1))
        log=$B/logs/regress-$h-$(basename "$f").log
        if ! $B/fuzz/fuzz_$h $LIMITS $4 "$f" >"$log" 2>&1; then
            bad=$((bad + 1))
            grep -m1 -E '^SUMMARY|FUZZ CHECK FAILED|ERROR: libFuzzer' "$log" | sed 's/ (.*BuildId[^)]*)//; s/ *$//' >> $B/logs/regress-$h.why
        fi
    done
    [ $n -eq 0 ] && continue
    echo "fuzz_$h: $((n - bad)) of $n saved crash inputs pass"
    # one line per distinct failure (the logs name the inputs: $B/logs/regress-$h-*.log)
    [ $bad -eq 0 ] || { sort $B/logs/regress-$h.why | uniq -c | sed 's/^ */    /'; fail=1; }
done

run_one() {
    h=$1
    set -- $(opts $h)
    mkdir -p $B/corpus/$h $B/crashes/$h
    dict=""; [ "$3" != - ] && dict="-dict=$3"
    log=$B/logs/fuzz-$h.log
    $B/fuzz/fuzz_$h -max_total_time="$FUZZ_S" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} $LIMITS -max_len="$2" $dict $4 -print_final_stats=1 \
        -artifact_prefix=$B/crashes/$h/ $B/corpus/$h $S/$1 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
        echo "fuzz_$h: ${execs:-?} executions in ${secs:-$FUZZ_S} s, nothing found ($(ls $B/corpus/$h | wc -l) corpus files)"
    else
        echo "fuzz_$h: FOUND a crash after ${execs:-?} executions: $(grep -m1 -E '^SUMMARY|FUZZ CHECK FAILED|ERROR: libFuzzer' "$log")"
        echo "    input: $(sed -n 's/.*Test unit written to //p' "$log" | head -1)   log: $log"
        echo "$h" >> $B/logs/failed
    fi
}

rm -f $B/logs/failed
echo "fuzz: $FUZZ_S s per harness, $FUZZ_JOBS at a time"
if [ "$FUZZ_JOBS" -ge 2 ]; then
    # two queues, alternating, each sequential
    q1=""; q2=""; i=0
    for h in $ONLY; do if [ $((i % 2)) -eq 0 ]; then q1="$q1 $h"; else q2="$q2 $h"; fi; i=$((i + 1)); done
    (for h in $q1; do run_one $h; done) &
    (for h in $q2; do run_one $h; done) &
    wait
else
    for h in $ONLY; do run_one $h; done
fi
[ -f $B/logs/failed ] && fail=1
rm -rf $B/tmp
if [ $fail -eq 0 ]; then echo "fuzz: all harnesses passed"; else echo "fuzz: FAILED (see above)"; fi
exit $fail
