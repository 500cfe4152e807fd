// ONNX Runtime peer: runs an exported model on the token ids ember used, with
// the same threads, and prints timings as JSON.
//   node ort_bench.js MODEL.onnx IDS.json THREADS REPEATS OUT.f32
// IDS.json: {"ids": [[...], ...], "type_ids": [[...], ...]} (equal lengths).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, idsPath, threads, repeats, outPath] = process.argv.slice(2);
  if (!outPath) { console.error('usage: node ort_bench.js MODEL.onnx IDS.json THREADS REPEATS OUT.f32'); process.exit(2); }
  const inp = JSON.parse(fs.readFileSync(idsPath, 'utf8'));
  const B = inp.ids.length, S = inp.ids[0].length;
  const flat = (rows) => BigInt64Array.from(rows.flat().map((v) => BigInt(v)));
  const feeds = {
    input_ids: new ort.Tensor('int64', flat(inp.ids), [B, S]),
    token_type_ids: new ort.Tensor('int64', flat(inp.type_ids), [B, S]),
    attention_mask: new ort.Tensor('int64', flat(inp.ids.map((r) => r.map(() => 1))), [B, S]),
  };
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  let out;
  for (let i = 0; i < 2; i++) out = await sess.run(feeds); // warm-up
  const times = [];
  for (let i = 0; i < Number(repeats); i++) {
    const t0 = process.hrtime.bigint();
    out = await sess.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const res = out[sess.outputNames[0]].data;
  fs.writeFileSync(outPath, Buffer.from(res.buffer, res.byteOffset, res.byteLength));
  console.log(JSON.stringify({
    min_ms: times[0], median_ms: times[Math.floor(times.length / 2)],
    max_rss_mb: process.resourceUsage().maxRSS / 1024, batch: B, seq: S, threads: Number(threads),
  }));
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
