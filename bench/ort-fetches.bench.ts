/**
 * Does passing pre-allocated output tensors (`fetches`) to onnxruntime-node 1.30 speed up decoding? Compares a
 * plain greedy-feed loop with one whose present KV (double-buffered views) and logits are pre-allocated fetches.
 *
 *   npx tsx bench/ort-fetches.bench.ts
 */
import * as ort from 'onnxruntime-node';
import { createTinyGlm } from '../src/index';
const info = await createTinyGlm('/tmp/engine-fetch-bench', { seed: 1, layers: 4, hiddenSize: 512, heads: 8, kvHeads: 2, headDim: 64, vocab: 32000 });
const s = await ort.InferenceSession.create(info.modelPath);
const { kvHeads, headDim, vocab, layers } = info.options;
const i64 = (a: number[], d: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), d);
const context = 768, steps = 48, maxLen = context + steps + 1;
const names = Array.from({ length: layers }, (_, l) => [`${l}.key`, `${l}.value`]).flat();
async function prefill() {
  const ids = Array.from({ length: context }, (_, i) => (i * 7) % 300);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids, [1, context]), attention_mask: i64(ids.map(() => 1), [1, context]),
    position_ids: i64(ids.map((_, i) => i), [1, context]), num_logits_to_keep: i64([1], []) };
  for (const n of names) feeds[`past_key_values.${n}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  return s.run(feeds);
}
async function plain(): Promise<number> {
  let out = await prefill();
  const t = performance.now();
  for (let step = 0; step < steps; step++) {
    const past = context + step;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64([11], [1, 1]), attention_mask: new ort.Tensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]),
      position_ids: i64([past], [1, 1]), num_logits_to_keep: i64([1], []) };
    for (const n of names) feeds[`past_key_values.${n}`] = out[`present.${n}`];
    out = await s.run(feeds);
  }
  return (performance.now() - t) / steps;
}
async function prealloc(): Promise<number> {
  const first = await prefill();
  const buffers = names.map(() => [new Float32Array(kvHeads * maxLen * headDim), new Float32Array(kvHeads * maxLen * headDim)]);
  let current: ort.Tensor[] = names.map((n) => first[`present.${n}`]);
  const logits = new Float32Array(vocab);
  const t = performance.now();
  for (let step = 0; step < steps; step++) {
    const past = context + step;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64([11], [1, 1]), attention_mask: new ort.Tensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]),
      position_ids: i64([past], [1, 1]), num_logits_to_keep: i64([1], []) };
    const fetches: Record<string, ort.Tensor> = { logits: new ort.Tensor('float32', logits, [1, 1, vocab]) };
    const next: ort.Tensor[] = [];
    names.forEach((n, i) => {
      feeds[`past_key_values.${n}`] = current[i];
      const view = buffers[i][step % 2].subarray(0, kvHeads * (past + 1) * headDim);
      const tensor = new ort.Tensor('float32', view, [1, kvHeads, past + 1, headDim]);
      fetches[`present.${n}`] = tensor;
      next.push(tensor);
    });
    await s.run(feeds, fetches);
    current = next;
  }
  return (performance.now() - t) / steps;
}
const results: Record<string, number[]> = { plain: [], prealloc: [] };
for (let r = 0; r < 4; r++) { results.plain.push(await plain()); results.prealloc.push(await prealloc()); }
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(JSON.stringify(results), 'median ms/token plain', median(results.plain).toFixed(2), 'prealloc', median(results.prealloc).toFixed(2));
