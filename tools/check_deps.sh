#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages the build needs,
# and those of make fuzz (clang and its libFuzzer runtime): optional, since
# make test skips its fuzzing stage without them.
need=""
[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if [ "${CC:-cc}" = clang ] && ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then need="$need libomp-dev"; fi

fuzz_rt() { command -v clang >/dev/null 2>&1 && [ -n "$(find "$(clang -print-resource-dir)" -name 'libclang_rt.fuzzer*.a' 2>/dev/null)" ]; }
opt=""
command -v clang >/dev/null 2>&1 || opt=" clang"
if ! fuzz_rt; then
    # Debian 12 names the runtime libclang-rt-dev; some releases only have the versioned libclang-rt-N-dev
    rt=libclang-rt-dev
    if ! apt-cache show $rt >/dev/null 2>&1 && command -v clang >/dev/null 2>&1; then
        rt=libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev
    fi
    opt="$opt $rt"
fi

if [ "$(id -u)" = 0 ]; then
    if [ -n "$need$opt" ]; then
        echo "installing:$need$opt" >&2
        apt-get update -qq >&2 || { [ -n "$need" ] && exit 1; }
    fi
    if [ -n "$need" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >&2 || exit 1
    fi
    if [ -n "$opt" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $opt >&2 ||
            echo "could not install$opt: make fuzz (and make test's fuzzing stage) will be skipped" >&2
    fi
    exit 0
fi
[ -n "$opt" ] && echo "optional, for make fuzz: sudo apt-get install -y$opt" >&2
if [ -n "$need" ]; then
    echo "missing packages; run: sudo apt-get install -y$need" >&2
    exit 1
fi
exit 0
