#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages the build needs.
need=""
[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if [ "${CC:-cc}" = clang ] && ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then need="$need libomp-dev"; fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$need" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) >&2 || exit 1
else
    echo "missing packages; run: sudo apt-get install -y$need" >&2
    exit 1
fi
