"""Random inputs for `make check-tokenizers` (tests/check/check_tokenizers.py).

Every text is a Python str of Unicode scalar values: anything but surrogates,
which neither HuggingFace's Rust `str` nor ember's JSON reader accepts.  U+0000
and every other control character travel as JSON \\u escapes, so the whole
scalar range reaches both tokenizers.  Invalid UTF-8 cannot pass through HF's
Python API at all; tests/test_tokenizer.c covers it.

A text is a run of "atoms" (a word from the vocabulary, a run of one script,
an emoji sequence, marks, controls, odd spaces, a literal special token, ...)
joined by nothing, a space, a whitespace run or punctuation, so that words,
scripts and categories meet at every kind of boundary.  Everything comes from
one random.Random, so a seed gives the same inputs on any machine with the
same Python version (unicodedata's tables decide the category pools).
"""
import random
import sys
import unicodedata

SPECIAL_TEXTS = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]",
                 "[cls]", "[CLS", "CLS]", "[[SEP]]", "[ SEP ]", "[MASK][MASK]"]

# script blocks: (lo, hi) inclusive, letters and whatever else lives there
SCRIPTS = {
    "latin1": [(0x00C0, 0x00FF)],
    "latin_ext": [(0x0100, 0x024F), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF)],
    "ipa": [(0x0250, 0x02FF)],
    "greek": [(0x0370, 0x03FF), (0x1F00, 0x1FFF)],
    "cyrillic": [(0x0400, 0x052F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F), (0x1C80, 0x1C8F)],
    "armenian": [(0x0530, 0x058F)],
    "hebrew": [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)],
    "arabic": [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "devanagari": [(0x0900, 0x097F), (0xA8E0, 0xA8FF)],
    "bengali_tamil": [(0x0980, 0x0BFF)],
    "thai_lao": [(0x0E00, 0x0EFF)],
    "tibetan_myanmar": [(0x0F00, 0x109F)],
    "georgian_ethiopic": [(0x10A0, 0x10FF), (0x1200, 0x137F)],
    "hangul": [(0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF)],
    "kana": [(0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF65, 0xFF9F), (0x1B000, 0x1B16F)],
    "cjk": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF),
            (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2B91F), (0x2B920, 0x2CEAF),
            (0x2CEB0, 0x2EBEF), (0x2EBF0, 0x2EE5F), (0x2F800, 0x2FA1F), (0x30000, 0x323AF)],
    "cjk_misc": [(0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3190, 0x33FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF)],
    "math_alnum": [(0x1D400, 0x1D7FF), (0x2100, 0x214F), (0x2460, 0x24FF)],
    "historic": [(0x10000, 0x1019F), (0x10300, 0x1034F), (0x10400, 0x104FF), (0x11000, 0x1107F),
                 (0x13000, 0x1342F), (0x16A40, 0x16A6F), (0x1E900, 0x1E95F), (0x11F00, 0x11F5F)],
    "newer": [(0x10D40, 0x10D8F), (0x105C0, 0x105FF), (0x11380, 0x113FF), (0x116D0, 0x116FF),
              (0x11BC0, 0x11BFF), (0x16100, 0x1613F), (0x16D40, 0x16D7F), (0x1E5D0, 0x1E5FF),
              (0x1CC00, 0x1CEBF), (0x1F8B0, 0x1F8BF), (0x2E50, 0x2E5F), (0xA7C0, 0xA7FF)],
}

EMOJI = [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF),
         (0x1FA70, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF)]
SKIN = [0x1F3FB, 0x1F3FC, 0x1F3FD, 0x1F3FE, 0x1F3FF]
ZWJ_SEQS = ["\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466",
            "\U0001F3F3\uFE0F\u200D\U0001F308", "\U0001F469\U0001F3FD\u200D\U0001F4BB",
            "\u2764\uFE0F\u200D\U0001F525", "\U0001F9D1\u200D\U0001F91D\u200D\U0001F9D1",
            "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",
            "1\uFE0F\u20E3", "#\uFE0F\u20E3", "\U0001F1EB\U0001F1F7", "\U0001F1FA\U0001F1F3"]
SPACES = [" ", "\u00A0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005",
          "\u2006", "\u2007", "\u2008", "\u2009", "\u200A", "\u202F", "\u205F", "\u3000",
          "\u2028", "\u2029", "\u0085", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f",
          "\u180E", "\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF"]
CASE_ODD = "\u0130\u0131\u1E9E\u00DF\u03A3\u03C2\u01C5\u01C4\u01C6\u212A\u212B\u2126\uFB00\uFB01\u0149" \
           "\u0390\u03B0\u1F88\u1FBC\u0345\u0399\u10A0\u13A0\uAB70\u1C90\u2C2F\uA7C0\u1E9B\u017F\u0587"


def _pools():
    """Code points by general category (Python's unicodedata), surrogates out."""
    cats = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        cats.setdefault(unicodedata.category(chr(cp)), []).append(cp)
    return cats


class Generator:
    def __init__(self, seed, vocab_words, added_tokens=()):
        self.r = random.Random(seed)
        self.cats = _pools()
        self.words = vocab_words or ["the", "word", "piece"]
        # the tokenizer's added tokens, as written and slightly off
        lits = sorted(set(added_tokens))
        self.literals = SPECIAL_TEXTS + lits + [v for t in lits for v in (t.lower(), t.upper(), t[:-1], " " + t + " ")]
        self.punct = sum((self.cats.get(c, []) for c in ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po")), [])
        self.symbols = sum((self.cats.get(c, []) for c in ("Sm", "Sc", "Sk", "So")), [])
        self.marks = sum((self.cats.get(c, []) for c in ("Mn", "Mc", "Me")), [])
        self.controls = list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0))
        self.formats = self.cats.get("Cf", [])
        self.private = self.cats.get("Co", [])
        self.unassigned = self.cats.get("Cn", [])
        self.letters_cased = self.cats.get("Lu", []) + self.cats.get("Lt", []) + self.cats.get("Ll", [])
        self.other_letters = self.cats.get("Lo", []) + self.cats.get("Lm", [])
        self.numbers = self.cats.get("Nd", []) + self.cats.get("Nl", []) + self.cats.get("No", [])
        self.seps = self.cats.get("Zs", []) + self.cats.get("Zl", []) + self.cats.get("Zp", [])
        self.atoms = [
            (22, self.vocab_word), (8, self.ascii_word), (4, self.digits), (8, self.script_run),
            (5, self.accented), (3, self.cjk_run), (4, self.emoji), (4, self.punct_run),
            (3, self.symbol_run), (3, self.control_run), (4, self.marks_run), (3, self.space_run),
            (2, self.long_word), (2, self.special_text), (3, self.case_odd), (3, self.any_cp),
            (2, self.category_run),
        ]
        self.atom_total = sum(w for w, _ in self.atoms)

    # --- atoms -------------------------------------------------------------
    def ch(self, ranges):
        lo, hi = self.r.choice(ranges)
        cp = self.r.randint(lo, hi)
        return chr(cp) if not 0xD800 <= cp <= 0xDFFF else "?"

    def recase(self, w):
        m = self.r.random()
        if m < 0.5:
            return w
        if m < 0.7:
            return w.upper()
        if m < 0.85:
            return w.capitalize()
        return "".join(c.upper() if self.r.random() < 0.5 else c for c in w)

    def vocab_word(self):
        w = self.recase(self.r.choice(self.words))
        if self.r.random() < 0.15:  # accent a letter, composed or decomposed
            i = self.r.randrange(len(w))
            mark = self.r.choice("\u0300\u0301\u0302\u0303\u0308\u030A\u0327\u030C\u0323\u0328")
            comb = w[:i + 1] + mark + w[i + 1:]
            w = unicodedata.normalize("NFC", comb) if self.r.random() < 0.5 else comb
        return w

    def ascii_word(self):
        n = self.r.choice([1, 1, 2, 3, 4, 6, 8, 12, 20])
        return self.recase("".join(self.r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)))

    def digits(self):
        n = self.r.choice([1, 2, 3, 4, 8, 16])
        s = "".join(self.r.choice("0123456789") for _ in range(n))
        if self.r.random() < 0.3:
            s += self.r.choice([".", ",", "%", "th", "st", "\u00BD", "\u00B2", "\u0663", "\u096A", "\uFF11"])
        return s

    def script_run(self):
        blocks = SCRIPTS[self.r.choice(list(SCRIPTS))]
        return "".join(self.ch(blocks) for _ in range(self.r.choice([1, 2, 3, 5, 8, 13])))

    def accented(self):
        base = self.r.choice(["cafe", "naive", "Ecole", "Angstrom", "Zoe", "uber", "resume", "PINATA", "facade"])
        out = []
        for c in base:
            out.append(c)
            if self.r.random() < 0.4:
                out.append(chr(self.r.choice([0x300, 0x301, 0x302, 0x303, 0x304, 0x306, 0x307, 0x308,
                                              0x30A, 0x30B, 0x30C, 0x323, 0x327, 0x328, 0x331])))
        s = "".join(out)
        form = self.r.choice(["NFC", "NFD", "NFKC", "NFKD", None])
        return unicodedata.normalize(form, s) if form else s

    def cjk_run(self):
        return "".join(self.ch(SCRIPTS["cjk"] + SCRIPTS["kana"] + SCRIPTS["cjk_misc"])
                       for _ in range(self.r.randint(1, 12)))

    def emoji(self):
        m = self.r.random()
        if m < 0.3:
            return self.r.choice(ZWJ_SEQS)
        e = self.ch(EMOJI)
        if m < 0.55:
            e += chr(self.r.choice(SKIN))
        elif m < 0.7:
            e += "\uFE0F"
        elif m < 0.85:
            e += "\u200D" + self.ch(EMOJI)
        return e

    def pick(self, pool, n):
        return "".join(chr(self.r.choice(pool)) for _ in range(n))

    def punct_run(self):
        if self.r.random() < 0.5:
            return self.pick([ord(c) for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"], self.r.randint(1, 4))
        return self.pick(self.punct, self.r.randint(1, 4))

    def symbol_run(self):
        return self.pick(self.symbols, self.r.randint(1, 4))

    def control_run(self):
        m = self.r.random()
        pool = self.controls if m < 0.5 else self.formats if m < 0.8 else self.private
        return self.pick(pool, self.r.randint(1, 3))

    def marks_run(self):
        marks = self.pick(self.marks, self.r.choice([1, 1, 2, 3, 6, 10]))
        m = self.r.random()
        if m < 0.25:
            return marks                         # alone (glued to whatever precedes)
        if m < 0.45:
            return " " + marks                   # after a space
        if m < 0.6:
            return self.r.choice(SPACES) + marks  # after an odd space
        return self.ch(SCRIPTS[self.r.choice(list(SCRIPTS))]) + marks

    def space_run(self):
        return "".join(self.r.choice(SPACES) for _ in range(self.r.randint(1, 6)))

    def long_word(self):
        n = self.r.choice([98, 99, 100, 101, 102, self.r.randint(90, 110), self.r.randint(100, 300)])
        m = self.r.random()
        if m < 0.3:
            s = "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
        elif m < 0.5:
            s = (self.r.choice(self.words) * n)[:n]
        elif m < 0.7:
            # accents that stripping removes: the char count after normalization decides
            s = "".join(self.r.choice("ae") + ("\u0301" if self.r.random() < 0.3 else "") for _ in range(n))
        elif m < 0.85:
            blocks = SCRIPTS[self.r.choice(["greek", "cyrillic", "hangul", "arabic", "thai_lao"])]
            s = "".join(self.ch(blocks) for _ in range(n))
        else:
            s = "".join(self.r.choice("abc\u0130\u00DF\uFB01\u1E9E") for _ in range(n))
        return self.recase(s)

    def special_text(self):
        return self.r.choice(self.literals)

    def case_odd(self):
        return "".join(self.r.choice(CASE_ODD) for _ in range(self.r.randint(1, 4)))

    def any_cp(self):
        while True:
            m = self.r.random()
            cp = self.r.randint(0, 0x10FFFF) if m < 0.4 else self.r.randint(0, 0x2FFFF) if m < 0.8 \
                else self.r.choice(self.unassigned)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)

    def category_run(self):
        pool = self.r.choice([self.letters_cased, self.other_letters, self.numbers, self.seps,
                              self.unassigned, self.marks, self.punct, self.symbols])
        return self.pick(pool, self.r.randint(1, 5))

    # --- texts --------------------------------------------------------------
    def atom(self):
        k = self.r.uniform(0, self.atom_total)
        for w, f in self.atoms:
            k -= w
            if k <= 0:
                return f()
        return self.atoms[-1][1]()

    def joiner(self):
        m = self.r.random()
        if m < 0.55:
            return " "
        if m < 0.75:
            return ""
        if m < 0.85:
            return self.space_run()
        if m < 0.95:
            return self.r.choice(",.;:!?-'\"()")
        return self.r.choice(SPACES)

    def text(self, long=False):
        m = self.r.random()
        if m < 0.03:
            return ""
        n = self.r.randint(50, 300) if long else self.r.choice([1, 1, 2, 3, 4, 6, 8, 12, 16, 24, 40])
        parts = []
        for i in range(n):
            if i:
                parts.append(self.joiner())
            parts.append(self.atom())
        s = "".join(parts)
        if self.r.random() < 0.1:
            s = self.space_run() + s
        if self.r.random() < 0.1:
            s += self.space_run()
        return s

    def case(self):
        """One input: (text, pair or None, max_length or 0, add_special)."""
        pair = None
        is_pair = self.r.random() < 0.4
        long_a = self.r.random() < 0.04
        text = self.text(long_a)
        if is_pair:
            pair = "" if self.r.random() < 0.04 else self.text(self.r.random() < 0.04)
        special = self.r.random() >= 0.1
        m = self.r.random()
        if m < 0.45:
            max_length = 0
        elif m < 0.85:
            max_length = self.r.randint(3, 40)
        elif m < 0.95:
            max_length = self.r.randint(41, 200)
        else:
            max_length = self.r.choice([256, 384, 512])
        return text, pair, max_length, special


def main():
    g = Generator(int(sys.argv[1]) if len(sys.argv) > 1 else 1, None)
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 10):
        print(ascii(g.case()))


if __name__ == "__main__":
    main()
