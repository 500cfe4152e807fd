"""The SIMD this machine offers, for the reports: it decides which kernels ran."""


def describe(cpu):
    try:
        # x86 lists "flags", arm64 "Features"
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith(("flags", "Features"))).split()
    except (OSError, StopIteration):
        return cpu
    if "asimd" in flags:
        simd = "NEON" + (" + dotprod" if "asimddp" in flags else "")
    elif "avx512f" in flags:
        simd = "AVX-512" + (" + VNNI + VPOPCNTDQ" if "avx512_vpopcntdq" in flags and "avx512_vnni" in flags else "")
    else:
        simd = "AVX2 + FMA, no AVX-512" if "avx2" in flags else "no AVX2"
    return f"{cpu} with {simd}"
