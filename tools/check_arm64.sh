#!/bin/sh
# Cross-builds ember for AArch64 (NEON and scalar kernels) and runs the cmocka
# suites under qemu-user: the check that the arm64 build compiles cleanly and
# computes what the x86 one does.  Not part of `make test` (it needs a cross
# toolchain and takes minutes under emulation).
#
#   make check-arm64                 every suite but the index one
#   SUITES="test_kernels" make check-arm64
#   SUITES=all make check-arm64      the index suite too (15 minutes more here)
#
# The library is built without OpenMP: on the machines this was written on,
# qemu-aarch64 (Debian 12, 7.2) hangs in pthread_create, even for a program
# that only starts and joins a thread.  A native arm64 build keeps OpenMP.
set -u
BUILD=${BUILD:-build-arm64}
CROSS=${CROSS:-aarch64-linux-gnu-}
SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}

missing=""
command -v "${CROSS}gcc" >/dev/null 2>&1 || missing="$missing gcc-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null 2>&1 || missing="$missing qemu-user"
[ -e /usr/lib/aarch64-linux-gnu/libcmocka.so ] || missing="$missing libcmocka-dev:arm64"
if [ -n "$missing" ]; then
    echo "check-arm64: missing:$missing" >&2
    echo "  install with: dpkg --add-architecture arm64 && apt-get update && apt-get install -y$missing" >&2
    exit 2
fi

# the suites to run: names under tests/, without .c
if [ "${SUITES:-}" = all ]; then
    SUITES=$(ls tests/test_*.c | sed 's#tests/\(.*\)\.c#\1#')
elif [ -z "${SUITES:-}" ]; then
    SUITES=$(ls tests/test_*.c | sed 's#tests/\(.*\)\.c#\1#' | grep -v '^test_index$')
fi
targets=""
for s in $SUITES; do targets="$targets $BUILD/tests/$s"; done

echo "check-arm64: building in $BUILD with ${CROSS}gcc (no OpenMP)"
make -s -j2 ARCH=aarch64 CC="${CROSS}gcc" OPENMP= BUILD="$BUILD" all $targets || exit 1

# every binary runs through qemu: the suites, and the CLI that test_cli starts
wrap="$BUILD/qemu"
mkdir -p "$wrap"
printf '#!/bin/sh\nexec qemu-aarch64 -L %s %s/ember "$@"\n' "$SYSROOT" "$(cd "$BUILD" && pwd)" > "$wrap/ember"
chmod +x "$wrap/ember"
runs=""
for t in $targets; do
    w="$wrap/$(basename "$t")"
    printf '#!/bin/sh\nexec qemu-aarch64 -L %s %s "$@"\n' "$SYSROOT" "$(cd "$(dirname "$t")" && pwd)/$(basename "$t")" > "$w"
    chmod +x "$w"
    runs="$runs $w"
done
echo "check-arm64: running$(for s in $SUITES; do printf ' %s' "$s"; done) under qemu-aarch64"
EMBER_BIN="$wrap/ember" sh tests/run_all.sh $runs
