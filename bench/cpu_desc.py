"""The SIMD this machine offers, for the reports: it decides which kernels ran."""


def simd():
    """The widest SIMD family /proc/cpuinfo lists ("AVX-512 + VNNI + VPOPCNTDQ",
    "AVX2 + FMA, no AVX-512", "NEON", ...), or None when it cannot be read."""
    try:
        # x86 lists "flags", arm64 "Features"
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith(("flags", "Features"))).split()
    except (OSError, StopIteration):
        return None
    if "asimd" in flags:
        return "NEON" + (" + dotprod" if "asimddp" in flags else "")
    if "avx512f" in flags:
        return "AVX-512" + (" + VNNI + VPOPCNTDQ" if "avx512_vpopcntdq" in flags and "avx512_vnni" in flags else "")
    return "AVX2 + FMA, no AVX-512" if "avx2" in flags else "no AVX2"


def describe(cpu):
    s = simd()
    return f"{cpu} with {s}" if s else cpu
