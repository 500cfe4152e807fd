# Fuzzing (included by the Makefile).  `make fuzz [FUZZ_S=N]`: tests/fuzz/run.sh
# checks for clang + libFuzzer, builds the harnesses into build-fuzz/ by calling
# this Makefile again with BUILD=build-fuzz CC=clang OPENMP= and the fuzzing
# CFLAGS (so the library objects there carry the coverage instrumentation),
# generates the seed corpora, runs each harness FUZZ_S seconds and every saved
# crash input.  `make test` runs the same as its last stage.
FUZZ_HARNESS_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_HELPER_SRC  := $(filter-out $(FUZZ_HARNESS_SRC) tests/fuzz/gen_seeds.c,$(wildcard tests/fuzz/*.c))
FUZZ_HELPER_OBJ  := $(FUZZ_HELPER_SRC:%.c=$(BUILD)/obj/%.o)
FUZZ_BIN         := $(FUZZ_HARNESS_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# the test stage; `make sanitize` sets it to `true` (the harnesses are sanitized already)
FUZZ_STAGE ?= FUZZ_S=$(FUZZ_S) sh tests/fuzz/run.sh

.PHONY: fuzz fuzz-bins
fuzz:
	@FUZZ_S=$(FUZZ_S) sh tests/fuzz/run.sh

fuzz-bins: $(FUZZ_BIN) $(BUILD)/fuzz/gen_seeds $(BUILD)/gen_model

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HELPER_OBJ) $(BUILD)/libembertools.a $(BUILD)/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/fuzz/gen_seeds: tests/fuzz/gen_seeds.c $(BUILD)/obj/tests/synth_model.o $(BUILD)/libembertools.a $(BUILD)/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(filter %.o %.a,$^) $(LDLIBS)
