"""Checks ember's input and output for `make bench-xlmr` against HuggingFace's
own code on the generated folder, before any timing:

    xlmr_check.py HF_DIR IDS.json TEXT.json OUT.f32

1. HuggingFace `tokenizers` on the folder's tokenizer.json must give, for
   the pair bench_embed built (TEXT.json: query and text), exactly the ids
   and type ids ember gave (IDS.json, first row); exits 1 otherwise.
2. transformers' XLMRobertaForSequenceClassification (float32, CPU torch)
   runs on those ids (every row, no padding) and writes its logits to
   OUT.f32 (raw f32), for bench/compare.py against ember's.
Needs torch, transformers, tokenizers (the venv of bench/venv.sh)."""
import json
import sys

import numpy as np


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    hf, ids_path, text_path, out = sys.argv[1:]
    inp = json.load(open(ids_path))
    txt = json.load(open(text_path))
    from tokenizers import Tokenizer

    enc = Tokenizer.from_file(f"{hf}/tokenizer.json").encode(txt["query"], txt["text"])
    if enc.ids != inp["ids"][0] or enc.type_ids != inp["type_ids"][0]:
        print(f"FAIL tokenizers gives {len(enc.ids)} ids {enc.ids[:12]}..., ember {len(inp['ids'][0])} "
              f"{inp['ids'][0][:12]}...")
        sys.exit(1)
    import torch
    from transformers import XLMRobertaForSequenceClassification

    torch.set_num_threads(2)
    model = XLMRobertaForSequenceClassification.from_pretrained(hf, dtype=torch.float32).eval()
    ids = torch.tensor(inp["ids"], dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                       token_type_ids=torch.tensor(inp["type_ids"], dtype=torch.int64)).logits
    np.ascontiguousarray(logits.numpy(), dtype=np.float32).tofile(out)
    print(f"tokenizers: the same {len(enc.ids)} ids as ember; transformers {model.__class__.__name__}: "
          f"{ids.shape[0]} logits, first {float(logits[0, 0]):.6f}")


if __name__ == "__main__":
    main()
