/**
 * Where the decode time of the shared-buffer GroupQueryAttention graph goes: ONNX Runtime's own `model_run` time
 * (from its profiler) against the time `session.run` takes as seen from JavaScript, for the gqa graph (shared
 * buffer bound as past and as pre-allocated present) and the Optimum graph, at 32 and 2048 tokens of context.
 * The JavaScript-side times come from a second session without the profiler (profiling slows the binding's
 * pre-allocated-output path). The difference is the Node binding: feeding, and the fresh copy of every output it
 * returns.
 * On the suite's GLM-Edge-shaped models (bench/support/glm-edge-model.ts).
 *
 *   npx tsx bench/gqa-binding-overhead.bench.ts
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { glmEdgeGraphFile, glmEdgeModel, glmEdgeShape } from './support/glm-edge-model';

const profileDir = path.join(os.tmpdir(), 'autoglm-bench-gqa-profile');
const { layers, kvHeads, headDim } = glmEdgeShape;
const steps = 15;
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });

console.log(`load average (1 min): ${os.loadavg()[0].toFixed(2)}`);
for (const kind of ['gqa', 'optimum'] as const) {
  const variant = kind === 'gqa' ? 'gqa' : 'fp32';
  const file = glmEdgeGraphFile(await glmEdgeModel(variant), variant);
  const session = await ort.InferenceSession.create(file, { enableProfiling: true, profileFilePrefix: path.join(profileDir, kind) });
  const plain = await ort.InferenceSession.create(file);
  const javascript: Record<number, number> = {};
  for (const context of [32, 2048]) {
   for (const profiled of [true, false]) {
    const target = profiled ? session : plain;
    const capacity = kind === 'gqa' ? Math.ceil((context + 1) / 256) * 256 : context;
    const buffers = Array.from({ length: layers * 2 }, () => new ort.Tensor('float32', new Float32Array(kvHeads * capacity * headDim), [1, kvHeads, capacity, headDim]));
    const times: number[] = [];
    for (let step = 0; step < steps; step++) {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64([5], [1, 1]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(context + 1).fill(1n), [1, context + 1]),
        num_logits_to_keep: int64([1], []),
      };
      if (kind === 'optimum') feeds.position_ids = int64([context], [1, 1]);
      const fetches: Record<string, ort.Tensor | null> = { logits: null };
      for (let layer = 0; layer < layers; layer++) {
        for (const [index, name] of [[0, 'key'], [1, 'value']] as const) {
          feeds[`past_key_values.${layer}.${name}`] = buffers[2 * layer + index];
          fetches[`present.${layer}.${name}`] = buffers[2 * layer + index];
        }
      }
      const start = performance.now();
      await (kind === 'gqa' ? target.run(feeds, fetches) : target.run(feeds));
      if (step >= 3) times.push(performance.now() - start);
    }
    if (!profiled) javascript[context] = median(times);
   }
  }
  await plain.release();
  session.endProfiling();
  await session.release();
  const profile = readdirSync(profileDir).find((name) => name.startsWith(kind));
  const events = JSON.parse(readFileSync(path.join(profileDir, profile!), 'utf8')) as { name: string; dur: number }[];
  const runs = events.filter((event) => event.name === 'model_run').map((event) => event.dur / 1000);
  const run32 = median(runs.slice(3, steps));
  const run2048 = median(runs.slice(steps + 3, 2 * steps));
  console.log(
    `${kind}: model_run ms @32 ${run32.toFixed(1)}, @2048 ${run2048.toFixed(1)} (${(run2048 / run32).toFixed(2)}x); ` +
      `session.run from JavaScript @32 ${javascript[32].toFixed(1)}, @2048 ${javascript[2048].toFixed(1)} (${(javascript[2048] / javascript[32]).toFixed(2)}x)`,
  );
}
