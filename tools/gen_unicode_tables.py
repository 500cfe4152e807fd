#!/usr/bin/env python3
"""Generate tokenizer/unicode_tables.c and .h from the Unicode Character Database.

Reads Debian's unicode-data files (/usr/share/unicode/*.txt, package
unicode-data; python3 stdlib only) and writes compact sorted tables that
tokenizer/unicode.c searches:
  * uni_prop_ranges: runs of code points sharing the same property bits
    (whitespace, control-to-remove, punctuation, nonspacing mark, CJK, unassigned)
  * uni_lower: full lowercase (UnicodeData simple + SpecialCasing unconditional)
  * uni_decomp: full (recursive) canonical decomposition, Hangul excluded
    (done algorithmically in C)
  * uni_ccc_ranges: canonical combining class runs
  * uni_comp: canonical composition pairs (primary composites) for NFC
  * uni_regex_ranges: the classes of the byte-level BPE split patterns,
    letters, numbers and White_Space, as the regex engine HF runs them with sees them
  * uni_gcb_ranges: Grapheme_Cluster_Break (auxiliary/GraphemeBreakProperty.txt)
    and Extended_Pictographic (emoji/emoji-data.txt), for the extended
    grapheme clusters of UAX #29 that HF's Precompiled normalizer walks;
    Hangul syllables (LV / LVT) are left to the C code, which computes them

The tables describe Unicode as HuggingFace `tokenizers` sees it, which is not
one Unicode version (make check-tokenizers compares every code point's fate):
  * Cc/Cf/Co (clean_text), P* (BERT punctuation) and Mn (strip_accents) come
    from the crate unicode_categories 0.1.1, whose tables are UnicodeData
    8.0.0: characters assigned later are in none of them;
  * NFD (strip_accents, and NFC) from unicode-normalization-alignments
    0.1.12, Unicode 9.0.0: later decompositions and combining classes unknown;
  * whitespace and lowercase from the Rust standard library of the compiler
    that built the wheel (Unicode 17.0 for tokenizers 0.23.3): the case pairs
    added after this UCD are listed in LOWER_AFTER_UCD;
  * L, N and White_Space of the Split pre-tokenizer's pattern from
    Oniguruma (crate onig_sys): Unicode 16.0, REGEX_AFTER_UCD below.
The UCD read here (15.0) is newer than 9.0 and DerivedAge.txt says which
character came when, so the older views are cut from it.

Usage: python3 tools/gen_unicode_tables.py [UCD_DIR] [OUT_DIR]
"""
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tokenizer")

P_WS, P_CTRL, P_PUNCT, P_MN, P_CJK, P_UNASSIGNED = 1, 2, 4, 8, 16, 32
RX_L, RX_N, RX_S = 1, 2, 4
MAXCP = 0x110000


def read_lines(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield line


def parse_unicode_data():
    cat, ccc, dec, lower = {}, {}, {}, {}
    first = None
    for line in read_lines("UnicodeData.txt"):
        fl = line.split(";")
        cp = int(fl[0], 16)
        name, gc = fl[1], fl[2]
        if name.endswith(", First>"):
            first = cp
            continue
        if name.endswith(", Last>"):
            for c in range(first, cp + 1):
                cat[c] = gc
                if fl[3] != "0":
                    ccc[c] = int(fl[3])
            continue
        cat[cp] = gc
        if fl[3] != "0":
            ccc[cp] = int(fl[3])
        if fl[5] and not fl[5].startswith("<"):
            dec[cp] = [int(x, 16) for x in fl[5].split()]
        if fl[13]:
            lower[cp] = [int(fl[13], 16)]
    return cat, ccc, dec, lower


def parse_white_space():
    ws = set()
    for line in read_lines("PropList.txt"):
        rng, prop = [x.strip() for x in line.split(";")[:2]]
        if prop != "White_Space":
            continue
        a, _, b = rng.partition("..")
        for c in range(int(a, 16), int(b or a, 16) + 1):
            ws.add(c)
    return ws


def parse_special_lower(lower):
    for line in read_lines("SpecialCasing.txt"):
        fl = [x.strip() for x in line.split(";")]
        if len(fl) > 5 and fl[4]:
            continue  # conditional (language or context): not applied
        cp = int(fl[0], 16)
        low = [int(x, 16) for x in fl[1].split()]
        if low != [cp]:
            lower[cp] = low


def parse_exclusions():
    ex = set()
    for line in read_lines("DerivedNormalizationProps.txt"):
        fl = [x.strip() for x in line.split(";")]
        if fl[1] != "Full_Composition_Exclusion":
            continue
        a, _, b = fl[0].partition("..")
        for c in range(int(a, 16), int(b or a, 16) + 1):
            ex.add(c)
    return ex


# HF tokenizers BertNormalizer::is_chinese_char, exactly: unlike Google
# BERT's list (0x2B820..0x2CEAF) it leaves U+2B820..U+2B91F out.
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
              (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF),
              (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]

# unicode_categories 0.1.1 (the crate HF's BertNormalizer and
# BertPreTokenizer ask for Cc/Cf/Co, P* and Mn) was generated from
# UnicodeData 8.0.0.  Its view is this UCD's general category for characters
# of DerivedAge <= 8.0, with the categories these six had in 8.0 (changed
# since; found by comparing the crate's tables with this UCD).
CATEGORIES_AGE = (8, 0)
GC_IN_8_0 = {0x166D: "Po", 0x111C9: "Po", 0x1734: "Mn", 0x1885: "Lo",
             0x1886: "Lo", 0xA9BD: "Mc"}
# unicode-normalization-alignments 0.1.12 (HF's NFD/NFC) has Unicode 9.0.0
# tables: no decomposition or combining class of a later character.
NORMALIZATION_AGE = (9, 0)
# Simple lowercase mappings added after UCD 15.0 that Rust's
# char::to_lowercase applies in tokenizers 0.23.3 (Unicode 17.0):
# (first, last, offset to the lowercase letter).
LOWER_AFTER_UCD = [(0x1C89, 0x1C89, 1), (0xA7CB, 0xA7CB, 0x264 - 0xA7CB),
                   (0xA7CC, 0xA7CC, 1), (0xA7CE, 0xA7CE, 1), (0xA7D2, 0xA7D2, 1),
                   (0xA7D4, 0xA7D4, 1), (0xA7DA, 0xA7DA, 1),
                   (0xA7DC, 0xA7DC, 0x19B - 0xA7DC), (0x10D50, 0x10D65, 0x20),
                   (0x16EA0, 0x16EB8, 0x1B)]


# Oniguruma (onig_sys, the regex engine of HF's Split pre-tokenizer) has its
# own Unicode tables: \p{L} (Lu Ll Lt Lm Lo), \p{N} (Nd Nl No) and \s
# (White_Space).  In tokenizers 0.23.3 they are Unicode 16.0's: this UCD's
# classes plus the letters and numbers assigned in 15.1 and 16.0, listed in
# REGEX_AFTER_UCD as (first, last, RX_*), found by splitting every code
# point with HF's own Split (make check-tokenizers checks every code point).
REGEX_AGE = (15, 0)
REGEX_AFTER_UCD = [
    (0x1C89, 0x1C8A, RX_L), (0xA7CB, 0xA7CD, RX_L), (0xA7DA, 0xA7DC, RX_L), (0x105C0, 0x105F3, RX_L),
    (0x10D40, 0x10D49, RX_N), (0x10D4A, 0x10D65, RX_L), (0x10D6F, 0x10D85, RX_L), (0x10EC2, 0x10EC4, RX_L),
    (0x11380, 0x11389, RX_L), (0x1138B, 0x1138B, RX_L), (0x1138E, 0x1138E, RX_L), (0x11390, 0x113B5, RX_L),
    (0x113B7, 0x113B7, RX_L), (0x113D1, 0x113D1, RX_L), (0x113D3, 0x113D3, RX_L), (0x116D0, 0x116E3, RX_N),
    (0x11BC0, 0x11BE0, RX_L), (0x11BF0, 0x11BF9, RX_N), (0x13460, 0x143FA, RX_L), (0x16100, 0x1611D, RX_L),
    (0x16130, 0x16139, RX_N), (0x16D40, 0x16D6C, RX_L), (0x16D70, 0x16D79, RX_N), (0x18CFF, 0x18CFF, RX_L),
    (0x1CCF0, 0x1CCF9, RX_N), (0x1E5D0, 0x1E5ED, RX_L), (0x1E5F0, 0x1E5F0, RX_L), (0x1E5F1, 0x1E5FA, RX_N),
    (0x2EBF0, 0x2EE5D, RX_L),
]


def regex_classes(cat, ws, age):
    v = [0] * MAXCP
    for c in range(MAXCP):
        gc = cat.get(c, "Cn") if age.get(c, (99,)) <= REGEX_AGE else "Cn"
        x = 0
        if gc[0] == "L":
            x |= RX_L
        if gc[0] == "N":
            x |= RX_N
        if c in ws:
            x |= RX_S
        v[c] = x
    for a, b, x in REGEX_AFTER_UCD:
        for c in range(a, b + 1):
            assert v[c] == 0 and cat.get(c, "Cn") == "Cn", hex(c)
            v[c] = x
    return v


# Grapheme_Cluster_Break values (UNI_GB_* in unicode_tables.h); bit 16 marks
# Extended_Pictographic.  HF's Precompiled normalizer segments with the
# crate unicode-segmentation (UAX #29 of its own Unicode version): this
# UCD's view, without rule GB9c (Indic conjuncts, Unicode 15.1), which only
# ever joins clusters of 9 bytes or more, where that normalizer works char
# by char anyway.
GCB_NAMES = ["Other", "CR", "LF", "Control", "Extend", "ZWJ", "Regional_Indicator", "Prepend",
             "SpacingMark", "L", "V", "T", "LV", "LVT"]
GB_EXTPICT = 16


def parse_gcb():
    v = [0] * MAXCP
    for name, prop, val in (("auxiliary/GraphemeBreakProperty.txt", None, None),
                            ("emoji/emoji-data.txt", "Extended_Pictographic", GB_EXTPICT)):
        for line in read_lines(name):
            rng, p = [x.strip() for x in line.split(";")[:2]]
            if prop is not None and p != prop:
                continue
            a, _, b = rng.partition("..")
            for c in range(int(a, 16), int(b or a, 16) + 1):
                if val is None:
                    if 0xAC00 <= c <= 0xD7A3:
                        assert p in ("LV", "LVT")
                        continue
                    assert v[c] & 15 == 0
                    v[c] |= GCB_NAMES.index(p)
                else:
                    v[c] |= val
    return v


def parse_age():
    age = {}
    for line in read_lines("DerivedAge.txt"):
        rng, v = [x.strip() for x in line.split(";")[:2]]
        a, _, b = rng.partition("..")
        for c in range(int(a, 16), int(b or a, 16) + 1):
            age[c] = tuple(int(x) for x in v.split("."))
    return age


def props(cat, ws, age):
    p = [0] * MAXCP
    for c in range(MAXCP):
        gc = cat.get(c, "Cn")
        # the crate's category (Cn for what 8.0 did not have)
        gc8 = GC_IN_8_0.get(c, gc if age.get(c, (99,)) <= CATEGORIES_AGE else "Cn")
        v = 0
        if c in ws:
            v |= P_WS
        if (gc8 in ("Cc", "Cf", "Co") or gc == "Cs") and c not in (9, 10, 13):
            v |= P_CTRL
        if gc8.startswith("P") or (c < 128 and chr(c) in
                                   "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"):
            v |= P_PUNCT
        if gc8 == "Mn":
            v |= P_MN
        if gc == "Cn":
            v |= P_UNASSIGNED
        p[c] = v
    for a, b in CJK_RANGES:
        for c in range(a, b + 1):
            p[c] |= P_CJK
    return p


def runs(values, skip_zero=True):
    out = []
    start = 0
    for c in range(1, MAXCP + 1):
        if c == MAXCP or values[c] != values[start]:
            if values[start] or not skip_zero:
                out.append((start, c - 1, values[start]))
            start = c
    return out


def full_decomp(c, dec):
    if c not in dec:
        return [c]
    r = []
    for d in dec[c]:
        r.extend(full_decomp(d, dec))
    return r


def canonical_order(seq, ccc):
    seq = list(seq)
    # stable bubble sort of non-starter runs by ccc (canonical ordering)
    for i in range(len(seq)):
        for j in range(len(seq) - 1 - i):
            a, b = ccc.get(seq[j], 0), ccc.get(seq[j + 1], 0)
            if a > b > 0:
                seq[j], seq[j + 1] = seq[j + 1], seq[j]
    return seq


def main():
    cat, ccc, dec, lower = parse_unicode_data()
    ws = parse_white_space()
    parse_special_lower(lower)
    excl = parse_exclusions()
    age = parse_age()
    old = lambda c: age.get(c, (99,)) <= NORMALIZATION_AGE  # noqa: E731
    ccc = {c: v for c, v in ccc.items() if old(c)}
    dec = {c: d for c, d in dec.items() if old(c)}
    for a, b, off in LOWER_AFTER_UCD:
        for c in range(a, b + 1):
            assert c not in lower and cat.get(c, "Cn") == "Cn", hex(c)
            lower[c] = [c + off]
    version = "unknown"
    with open(os.path.join(UCD, "ReadMe.txt"), encoding="utf-8") as f:
        for line in f:
            if "Version" in line or "Date:" in line:
                version = line.strip("# \n")
                break
    derived_age = os.path.join(UCD, "DerivedAge.txt")
    if os.path.exists(derived_age):
        with open(derived_age, encoding="utf-8") as f:
            version = f.readline().strip("# \n")

    prop_runs = runs(props(cat, ws, age))
    regex_runs = runs(regex_classes(cat, ws, age))
    gcb_runs = runs(parse_gcb())
    ccc_vals = [0] * MAXCP
    for c, v in ccc.items():
        ccc_vals[c] = v
    ccc_runs = runs(ccc_vals)

    lower_items = sorted((c, l) for c, l in lower.items() if l != [c])
    assert all(len(l) <= 3 for _, l in lower_items)

    decomp_items = []
    pool = []
    for c in sorted(dec):
        if 0xAC00 <= c <= 0xD7A3:
            continue
        d = canonical_order(full_decomp(c, dec), ccc)
        decomp_items.append((c, len(pool), len(d)))
        pool.extend(d)
    assert max(n for _, _, n in decomp_items) < 256 and len(pool) < 65536

    comp = []
    for c, d in dec.items():
        if len(d) == 2 and c not in excl:
            comp.append((d[0], d[1], c))
    comp.sort()

    h = os.path.join(OUT, "unicode_tables.h")
    with open(h, "w") as f:
        f.write(f"""/* Generated by tools/gen_unicode_tables.py from the Unicode Character
 * Database ({version}), cut to the Unicode versions HuggingFace tokenizers
 * uses for each property (see the script).  Do not edit by hand. */
#ifndef EMBER_UNICODE_TABLES_H
#define EMBER_UNICODE_TABLES_H
#include <stdint.h>

enum {{
    UNI_WS = {P_WS},         /* White_Space (Rust char::is_whitespace) */
    UNI_CTRL = {P_CTRL},       /* Cc Cf Co (Unicode 8.0) Cs except tab, LF, CR (HF is_control) */
    UNI_PUNCT = {P_PUNCT},      /* P* (Unicode 8.0) or ASCII punctuation (HF is_bert_punc) */
    UNI_MN = {P_MN},         /* Mn (Unicode 8.0): dropped by accent stripping */
    UNI_CJK = {P_CJK},       /* HF BertNormalizer is_chinese_char ranges */
    UNI_UNASSIGNED = {P_UNASSIGNED} /* Cn */
}};

/* classes of the BPE split patterns (uni_regex_ranges) */
enum {{
    UNI_RX_L = {RX_L}, /* letters, \\p{{L}} */
    UNI_RX_N = {RX_N}, /* numbers, \\p{{N}} */
    UNI_RX_S = {RX_S}  /* White_Space, \\s */
}};

/* Grapheme_Cluster_Break (uni_gcb_ranges); | UNI_GB_EXTPICT for
 * Extended_Pictographic.  Hangul syllables are not in the table. */
enum {{
    UNI_GB_OTHER, UNI_GB_CR, UNI_GB_LF, UNI_GB_CONTROL, UNI_GB_EXTEND, UNI_GB_ZWJ, UNI_GB_RI,
    UNI_GB_PREPEND, UNI_GB_SPACINGMARK, UNI_GB_L, UNI_GB_V, UNI_GB_T, UNI_GB_LV, UNI_GB_LVT,
    UNI_GB_EXTPICT = {GB_EXTPICT}
}};

typedef struct {{ uint32_t lo, hi; uint8_t v; }} uni_range;
typedef struct {{ uint32_t cp; uint32_t to[3]; }} uni_lower_entry;
typedef struct {{ uint32_t cp; uint16_t off; uint8_t len; }} uni_decomp_entry;
typedef struct {{ uint32_t a, b, c; }} uni_comp_entry;

extern const uni_range uni_prop_ranges[];
extern const int uni_prop_count;
extern const uni_range uni_ccc_ranges[];
extern const int uni_ccc_count;
extern const uni_lower_entry uni_lower[];
extern const int uni_lower_count;
extern const uni_decomp_entry uni_decomp[];
extern const int uni_decomp_count;
extern const uint32_t uni_decomp_pool[];
extern const uni_comp_entry uni_comp[];
extern const int uni_comp_count;
extern const uni_range uni_regex_ranges[];
extern const int uni_regex_count;
extern const uni_range uni_gcb_ranges[];
extern const int uni_gcb_count;

#endif
""")

    def rows(items, fmt, per):
        out = []
        for i in range(0, len(items), per):
            out.append("    " + " ".join(fmt(x) for x in items[i:i + per]))
        return "\n".join(out)

    cfile = os.path.join(OUT, "unicode_tables.c")
    with open(cfile, "w") as f:
        f.write(f"/* Generated by tools/gen_unicode_tables.py from the Unicode "
                f"Character\n * Database ({version}), cut to the Unicode versions "
                f"HuggingFace\n * tokenizers uses for each property (see the script).  "
                f"Do not edit by hand. */\n"
                '#include "tokenizer/unicode_tables.h"\n\n')
        f.write("const uni_range uni_prop_ranges[] = {\n")
        f.write(rows(prop_runs, lambda r: "{0x%X,0x%X,%d}," % r, 4))
        f.write(f"\n}};\nconst int uni_prop_count = {len(prop_runs)};\n\n")
        f.write("const uni_range uni_ccc_ranges[] = {\n")
        f.write(rows(ccc_runs, lambda r: "{0x%X,0x%X,%d}," % r, 4))
        f.write(f"\n}};\nconst int uni_ccc_count = {len(ccc_runs)};\n\n")
        f.write("const uni_lower_entry uni_lower[] = {\n")
        f.write(rows(lower_items, lambda e: "{0x%X,{%s}}," % (
            e[0], ",".join("0x%X" % x for x in (e[1] + [0, 0])[:3])), 3))
        f.write(f"\n}};\nconst int uni_lower_count = {len(lower_items)};\n\n")
        f.write("const uni_decomp_entry uni_decomp[] = {\n")
        f.write(rows(decomp_items, lambda e: "{0x%X,%d,%d}," % e, 5))
        f.write(f"\n}};\nconst int uni_decomp_count = {len(decomp_items)};\n\n")
        f.write("const uint32_t uni_decomp_pool[] = {\n")
        f.write(rows(pool, lambda x: "0x%X," % x, 10))
        f.write("\n};\n\n")
        f.write("const uni_comp_entry uni_comp[] = {\n")
        f.write(rows(comp, lambda e: "{0x%X,0x%X,0x%X}," % e, 3))
        f.write(f"\n}};\nconst int uni_comp_count = {len(comp)};\n\n")
        f.write("const uni_range uni_regex_ranges[] = {\n")
        f.write(rows(regex_runs, lambda r: "{0x%X,0x%X,%d}," % r, 4))
        f.write(f"\n}};\nconst int uni_regex_count = {len(regex_runs)};\n\n")
        f.write("const uni_range uni_gcb_ranges[] = {\n")
        f.write(rows(gcb_runs, lambda r: "{0x%X,0x%X,%d}," % r, 4))
        f.write(f"\n}};\nconst int uni_gcb_count = {len(gcb_runs)};\n")


if __name__ == "__main__":
    main()
