#!/bin/sh
# bench/venv.sh BUILD PACKAGE...
# The one Python virtual environment of the benches and check-* targets:
# $BUILD/venv, made with `python3 -m venv` on first use, with PACKAGE...
# installed from PyPI by pip (pip specs: names, pins, extras).  Prints the
# venv's python on stdout.  When the venv cannot be made or a package cannot
# be installed (no network, no PyPI), prints one line on stderr and exits 1,
# so the caller skips its peer or check.  `make` and `make test` never call it.
set -u
BUILD=${1:?usage: bench/venv.sh BUILD PACKAGE...}
shift
VENV=$BUILD/venv
PY=$VENV/bin/python
HOST_PY=${EMBER_PYTHON:-python3}
if [ ! -x "$PY" ]; then
    mkdir -p "$BUILD"
    if ! "$HOST_PY" -m venv "$VENV" >"$BUILD/venv.log" 2>&1; then
        echo "venv: cannot make $VENV with $HOST_PY -m venv (Debian: apt-get install python3-venv); see $BUILD/venv.log" >&2
        rm -rf "$VENV"
        exit 1
    fi
fi
if [ $# -gt 0 ]; then
    # a requirement already satisfied is not looked up again, so this is
    # offline-safe once installed; short timeouts so an unreachable PyPI is
    # told in seconds, not minutes
    if ! "$PY" -m pip install -q --disable-pip-version-check --timeout 15 --retries 1 "$@" >>"$BUILD/venv.log" 2>&1; then
        echo "venv: pip could not install $* (PyPI unreachable?); see $BUILD/venv.log" >&2
        exit 1
    fi
fi
# an absolute path, so callers may cd
case $PY in /*) echo "$PY" ;; *) echo "$(pwd)/$PY" ;; esac
