/**
 * GlmModel against the bare `session.run` greedy loop in ONE process, alternating run by run, so both see the same
 * load on shared cores (a finer comparison than engine.bench.ts's process-per-contender rounds). Needs the model
 * engine.bench.ts writes first.
 *
 *   npx tsx bench/engine-interleaved.bench.ts [--pairs 6] [--prompt 32] [--decode 24]
 */
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GlmModel } from '../src/models/glm-model';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const pairs = argument('pairs', 6);
const promptTokens = argument('prompt', 32);
const decodeTokens = argument('decode', 24);
const dir = path.join(os.tmpdir(), 'autoglm-bench-engine');
const session = await ort.InferenceSession.create(path.join(dir, 'onnx', 'model.onnx'), { graphOptimizationLevel: 'all' });
const model = await GlmModel.load(dir);
const { layers, kvHeads, headDim } = model.info;
const ids = Array.from({ length: promptTokens }, (_, i) => 3 + ((i * 37) % 200));
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Milliseconds per decoded token after the first. */
async function floor(): Promise<number> {
  let feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(ids.map(() => 1), [1, ids.length]),
    position_ids: int64(ids.map((_, i) => i), [1, ids.length]),
    num_logits_to_keep: int64([1], []),
  };
  for (let l = 0; l < layers; l++) for (const k of ['key', 'value']) feeds[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  let length = ids.length;
  let first = 0;
  for (let step = 0; step < decodeTokens; step++) {
    const out = await session.run(feeds);
    const logits = out.logits.data as Float32Array;
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    if (step === 0) first = performance.now();
    feeds = {
      input_ids: int64([best], [1, 1]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(length + 1).fill(1n), [1, length + 1]),
      position_ids: int64([length], [1, 1]),
      num_logits_to_keep: int64([1], []),
    };
    for (let l = 0; l < layers; l++) for (const k of ['key', 'value']) feeds[`past_key_values.${l}.${k}`] = out[`present.${l}.${k}`];
    length++;
  }
  return (performance.now() - first) / (decodeTokens - 1);
}

async function glmModel(): Promise<number> {
  let first = 0;
  let count = 0;
  for await (const event of model.stream(ids, { maxNewTokens: decodeTokens, temperature: 0, prefixCache: false })) {
    if (event.type === 'token' && count++ === 0) first = performance.now();
  }
  return (performance.now() - first) / (count - 1);
}

await floor();
await glmModel();
const ratios: number[] = [];
for (let pair = 0; pair < pairs; pair++) {
  const [a, b] = pair % 2 === 0 ? [await floor(), await glmModel()] : [await glmModel(), await floor()].reverse();
  ratios.push(a / b);
  console.log(`pair ${pair + 1}: floor ${a.toFixed(1)} ms/token, GlmModel ${b.toFixed(1)} ms/token, load ${os.loadavg()[0].toFixed(1)}`);
}
ratios.sort((x, y) => x - y);
console.log(`GlmModel decode speed / floor, median of ${pairs} pairs: ${ratios[Math.floor(pairs / 2)].toFixed(3)}x`);
await model.dispose();
await session.release();
