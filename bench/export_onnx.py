"""Exports a HuggingFace BERT or XLM-RoBERTa checkpoint folder (config.json +
model.safetensors) to ONNX with onnx.helper, so ONNX Runtime can run the SAME
weights ember runs.

    export_onnx.py HF_DIR OUT.onnx

BertModel / XLMRobertaModel -> mean-pooled, L2-normalised sentence embedding
[batch, hidden] (as sentence-transformers all-MiniLM-L6-v2 computes it);
BertForSequenceClassification -> logits [batch, 1] (pooler tanh + classifier);
XLMRobertaForSequenceClassification -> logits [batch, num_labels]
(classifier.out_proj(tanh(classifier.dense(h[0]))), as transformers' head).
XLM-R positions are transformers' create_position_ids_from_input_ids:
padding_idx + 1 + the count of non-pad ids so far, padding_idx for a pad id.
Exact erf GELU, LayerNormalization (opset 17), additive padding mask.
Needs onnx and numpy (the venv of bench/venv.sh); no torch, no transformers."""
import json
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DT = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        data = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, t in hdr.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = np.asarray(data[base + a:base + b])
        if t["dtype"] == "BF16":
            arr = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] in DT:
            # F32 stays a view of the mapped file (an XLM-R base table is 768 MB)
            arr = raw.view(DT[t["dtype"]]).astype(np.float32, copy=False)
        else:
            continue  # position_ids and other non-float buffers
        out[name] = arr.reshape(t["shape"])
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    cfg = json.load(open(f"{src}/config.json"))
    W = read_safetensors(f"{src}/model.safetensors")
    cross = cfg["architectures"][0].endswith("ForSequenceClassification")
    pre = next((p for p in ("bert.", "roberta.") if any(k.startswith(p) for k in W)), "")
    roberta = cfg.get("model_type") == "xlm-roberta" or cfg["architectures"][0].startswith("XLMRoberta")
    H, nh, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd, eps = H // nh, float(cfg.get("layer_norm_eps", 1e-12))

    inits, nodes = [], []
    def init(name, arr):
        # (np.ascontiguousarray would turn 0-d scalars into shape [1])
        inits.append(numpy_helper.from_array(np.array(arr, dtype=arr.dtype, order="C"), name))
        return name
    def const(name, arr):
        return init(name, np.asarray(arr))
    def node(op, ins, outs=None, **kw):
        outs = outs or [f"{op}_{len(nodes)}"]
        nodes.append(helper.make_node(op, ins, outs, **kw))
        return outs[0]
    def w(n):
        return W[pre + n]
    def linear(x, n):  # torch Linear: y = x W^T + b
        wt = init(n + ".wT", w(n + ".weight").T.copy())
        b = init(n + ".b", w(n + ".bias"))
        return node("Add", [node("MatMul", [x, wt]), b])
    def layernorm(x, n):
        return node("LayerNormalization", [x, init(n + ".g", w(n + ".weight")), init(n + ".beta", w(n + ".bias"))],
                    axis=-1, epsilon=eps)

    ids, tt, mask = "input_ids", "token_type_ids", "attention_mask"
    if roberta:
        # transformers' create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad
        pad = np.array(int(cfg.get("pad_token_id", 1)), np.int64)
        real = node("Cast", [node("Not", [node("Equal", [ids, const("pad_id", pad)])])], to=TensorProto.INT64)
        pos = node("Add", [node("Mul", [node("CumSum", [real, const("ax1c", np.array(1, np.int64))]), real]),
                           const("pad_off", pad)])
    else:
        # position ids 0..S-1 per row: cumsum of ones, minus one
        ones = node("ConstantOfShape", [node("Shape", [ids])], value=helper.make_tensor("v1", TensorProto.INT64, [1], [1]))
        pos = node("Sub", [node("CumSum", [ones, const("ax1c", np.array(1, np.int64))]), const("one_i", np.array(1, np.int64))])
    x = node("Add", [node("Gather", [init("wemb", w("embeddings.word_embeddings.weight")), ids], axis=0),
                     node("Gather", [init("pemb", w("embeddings.position_embeddings.weight")), pos], axis=0)])
    x = node("Add", [x, node("Gather", [init("temb", w("embeddings.token_type_embeddings.weight")), tt], axis=0)])
    x = layernorm(x, "embeddings.LayerNorm")
    maskf = node("Cast", [mask], to=TensorProto.FLOAT)
    ext = node("Mul", [node("Sub", [const("one_f", np.array(1.0, np.float32)), maskf]), const("neg", np.array(-1e9, np.float32))])
    ext = node("Unsqueeze", [ext, const("ax12", np.array([1, 2], np.int64))])
    shp4 = const("shp4", np.array([0, 0, nh, hd], np.int64))
    shp3 = const("shp3", np.array([0, 0, H], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hd), np.float32))
    for l in range(L):
        p = f"encoder.layer.{l}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), shp4])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), shp4])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), shp4])], perm=[0, 2, 1, 3])
        s = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), ext])
        ctx = node("MatMul", [node("Softmax", [s], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), shp3])
        x = layernorm(node("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        f = linear(x, p + "intermediate.dense")
        g = node("Mul", [node("Mul", [f, const(f"half{l}", np.array(0.5, np.float32))]),
                         node("Add", [const(f"onef{l}", np.array(1.0, np.float32)),
                                      node("Erf", [node("Mul", [f, const(f"rs2{l}", np.array(1 / np.sqrt(2), np.float32))])])])])
        x = layernorm(node("Add", [linear(g, p + "output.dense"), x]), p + "output.LayerNorm")
    if cross:
        h0 = node("Gather", [x, const("zero_s", np.array(0, np.int64))], axis=1)
        # the head's tensors carry no model prefix
        dense, out_w = ("classifier.dense", "classifier.out_proj") if roberta else (pre + "pooler.dense", "classifier")
        t = node("Tanh", [node("Add", [node("MatMul", [h0, init("cls.dense.wT", W[dense + ".weight"].T.copy())]),
                                       init("cls.dense.b", W[dense + ".bias"])])])
        wc = init("cls.wT", W[out_w + ".weight"].T.copy())
        out = node("Add", [node("MatMul", [t, wc]), init("cls.b", W[out_w + ".bias"])], ["logits"])
        out_info = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", W[out_w + ".weight"].shape[0]])
    else:
        m3 = node("Unsqueeze", [maskf, const("ax2", np.array([2], np.int64))])
        summed = node("ReduceSum", [node("Mul", [x, m3]), const("ax1", np.array([1], np.int64))], keepdims=0)
        cnt = node("ReduceSum", [maskf, const("ax1b", np.array([1], np.int64))], keepdims=1)
        mean = node("Div", [summed, cnt])
        out = node("LpNormalization", [mean], ["embedding"], axis=-1, p=2)
        out_info = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", H])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in (ids, tt, mask)]
    graph = helper.make_graph(nodes, "xlm-roberta" if roberta else "bert", inputs, [out_info], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="ember-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"export_onnx: wrote {dst} ({'XLM-R ' if roberta else ''}{'cross-encoder' if cross else 'embedder'}, "
          f"{L} layers, hidden {H})")


if __name__ == "__main__":
    main()
