/**
 * Decode cost vs context: GlmModel on the Optimum fp32 graph (past grown by Concat every step) against the
 * GroupQueryAttention graph of the same weights (onnxruntime-genai layout, past and present one shared buffer),
 * at 32 / 512 / 2048 tokens of context. Contexts in increasing order; at each, the two models alternate round by
 * round, each re-sending the same prompt so its prefix cache leaves one token to prefill; medians over rounds.
 * Also times what onnxruntime-node's returned copy of the shared buffers costs in JavaScript terms (a fresh
 * ArrayBuffer of the buffers' size, filled).
 *
 *   npx tsx bench/decode-context.bench.ts [--rounds 5] [--decode 16] [--hidden 1024] [--layers 4] [--vocab 32000]
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createTinyGlm, type TinyGlmOptions } from '../src/index';
import { GlmModel } from '../src/models/glm-model';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const rounds = argument('rounds', 5);
const decodeTokens = argument('decode', 16);
const hidden = argument('hidden', 1024);
const layers = argument('layers', 4);
const vocab = argument('vocab', 32000);
const contexts = [32, 512, 2048];

const shape: TinyGlmOptions = {
  seed: 3,
  hiddenSize: hidden,
  layers,
  heads: 8,
  kvHeads: 2,
  headDim: 128,
  intermediateSize: 3 * hidden,
  vocab,
  externalData: true,
  maxPositionEmbeddings: 4096,
};
const root = path.join(os.tmpdir(), `autoglm-bench-decode-context-${hidden}-${layers}-${vocab}`);
const dirs = { optimum: path.join(root, 'optimum'), gqa: path.join(root, 'gqa') };
if (!existsSync(path.join(dirs.optimum, 'onnx', 'model.onnx'))) await createTinyGlm(dirs.optimum, shape);
if (!existsSync(path.join(dirs.gqa, 'model.onnx'))) await createTinyGlm(dirs.gqa, { ...shape, attention: 'gqa' });

const models = { optimum: await GlmModel.load(dirs.optimum), gqa: await GlmModel.load(dirs.gqa) };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => os.loadavg()[0].toFixed(2);
// Ids inside the built-in tokenizer; every prompt is a prefix of the longest.
const longest = Array.from({ length: Math.max(...contexts) }, (_, i) => 3 + ((i * 37) % 250));

// Garbage collection during decoding: the binding hands every output back as a fresh ArrayBuffer.
let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});
gcObserver.observe({ entryTypes: ['gc'] });
const gcPerToken: Record<string, Record<number, number[]>> = { optimum: {}, gqa: {} };

const loads: string[] = [load()];
const results: Record<string, Record<number, number[]>> = { optimum: {}, gqa: {} };
const tokenCounts: number[] = [];
for (const context of contexts) {
  const prompt = longest.slice(0, context);
  for (const model of Object.values(models)) await model.generate(prompt, { maxNewTokens: 2 }); // prefill into the cache
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['optimum', 'gqa'] as const) : (['gqa', 'optimum'] as const);
    for (const name of order) {
      await new Promise((resolve) => setImmediate(resolve)); // deliver pending gc entries first
      const gcBefore = gcMs;
      const result = await models[name].generate(prompt, { maxNewTokens: decodeTokens });
      await new Promise((resolve) => setImmediate(resolve));
      (gcPerToken[name][context] ??= []).push((gcMs - gcBefore) / result.tokenIds.length);
      if (result.usage.prefillTokens !== 1) throw new Error(`expected a warm prefix, prefilled ${result.usage.prefillTokens}`);
      tokenCounts.push(result.tokenIds.length);
      if (result.tokenIds.length < 4) continue;
      (results[name][context] ??= []).push(result.timings.decodeMs / (result.tokenIds.length - 1));
    }
  }
  loads.push(load());
}

// What the binding's returned copy of the shared buffers costs: capacity rounds up to 256 positions.
const copyMs: Record<number, number> = {};
for (const context of contexts) {
  const capacity = Math.ceil((context + decodeTokens) / 256) * 256;
  const source = new Float32Array(2 * 128 * capacity);
  const times: number[] = [];
  for (let repeat = 0; repeat < 20; repeat++) {
    const start = performance.now();
    for (let tensor = 0; tensor < 2 * layers; tensor++) new Float32Array(source.length).set(source);
    times.push(performance.now() - start);
  }
  copyMs[context] = median(times);
}
for (const model of Object.values(models)) await model.dispose();
gcObserver.disconnect();

const row = (name: 'optimum' | 'gqa') => contexts.map((context) => median(results[name][context]));
const optimum = row('optimum');
const gqa = row('gqa');
console.log(`shape: hidden ${hidden}, ${layers} layers, 8/2 heads, head_dim 128, vocab ${vocab}; rounds ${rounds}, ${decodeTokens} new tokens`);
console.log(`tokens per generation: min ${Math.min(...tokenCounts)}, max ${Math.max(...tokenCounts)}`);
console.log(`load average (1 min) at start and after each context: ${loads.join(', ')}`);
console.log('| graph | ' + contexts.map((c) => `ms/token @${c}`).join(' | ') + ' | 2048 / 32 |');
console.log('|---|' + contexts.map(() => '---|').join('') + '---|');
console.log(`| Optimum (Concat past) | ${optimum.map((v) => v.toFixed(1)).join(' | ')} | ${(optimum[2] / optimum[0]).toFixed(2)}x |`);
console.log(`| GroupQueryAttention, shared buffer | ${gqa.map((v) => v.toFixed(1)).join(' | ')} | ${(gqa[2] / gqa[0]).toFixed(2)}x |`);
console.log(`gqa / Optimum: ${contexts.map((c, i) => `@${c} ${(gqa[i] / optimum[i]).toFixed(2)}x`).join(', ')}`);
console.log(`GC ms per token (median): ${(['optimum', 'gqa'] as const).map((name) => `${name} ${contexts.map((c) => `@${c} ${median(gcPerToken[name][c]).toFixed(1)}`).join(' ')}`).join('; ')}`);
console.log(`JS estimate of the returned copy of the shared buffers per step: ${contexts.map((c) => `@${c} ${copyMs[c].toFixed(2)} ms`).join(', ')}`);
console.log(JSON.stringify(results));
