"""Delta debugging (Zeller's ddmin) with batched tests, for check_tokenizers.py.

test_many(candidates) gets a list of candidate sequences and returns, for each,
whether it still fails; a whole round goes to the tokenizers at once (one
ember process, one HF batch), not one process per candidate.  The result is
1-minimal: removing any single element makes the failure go away.
"""


def ddmin(seq, test_many):
    seq = list(seq)
    n = 2
    while len(seq) >= 2:
        size = -(-len(seq) // n)
        starts = range(0, len(seq), size)
        subsets = [seq[i:i + size] for i in starts]
        complements = [seq[:i] + seq[i + size:] for i in starts]
        # subsets only help while there are few of them; complements always
        cands = (subsets if n <= 8 else []) + complements
        res = test_many(cands)
        hit = next((k for k, bad in enumerate(res) if bad), None)
        if hit is not None:
            if n <= 8 and hit < len(subsets):
                seq, n = cands[hit], 2
            else:
                seq, n = cands[hit], max(n - 1, 2)
            continue
        if n >= len(seq):
            break
        n = min(len(seq), 2 * n)
    if len(seq) == 1 and test_many([[]])[0]:
        return []
    return seq
