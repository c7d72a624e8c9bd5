/**
 * What one batched decode step costs by its number of rows (issue 15): the ceiling of continuous batching on a graph.
 * CausalLmGraph.forwardBatch on B sequences of 32 prompt tokens each (pre-packed weights, as a batching GlmModel
 * loads them), median of 16 steps per B, on the suite's GLM-Edge-shaped graphs. N concurrent requests can be at
 * most N / (step cost at N rows / step cost at 1 row) times faster than the same requests one after another.
 *
 *   npx tsx bench/batch-step-cost.bench.ts [--models int4,fp32] [--rows 1,2,4,8]
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CausalLmGraph } from '../src/models/causal-lm-graph';
import { parseModelConfig } from '../src/models/model-config';
import { OnnxBackend } from '../src/models/onnx-backend';
import { promptIds } from './support/engine-contenders';
import { glmEdgeGraphFile, glmEdgeModel, type GlmEdgeVariant } from './support/glm-edge-model';
import { median } from './support/stats';

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const models = option('models', 'int4,fp32').split(',') as GlmEdgeVariant[];
const rowCounts = option('rows', '1,2,3,4,6,8').split(',').map(Number);

console.log(`${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
console.log('model | rows | step ms (median of 16) | cost vs 1 row | sequence-tokens/s | ceiling of N concurrent vs serial');
console.log('---|---|---|---|---|---');
for (const variant of models) {
  const directory = await glmEdgeModel(variant);
  const config = parseModelConfig(JSON.parse(readFileSync(path.join(directory, 'config.json'), 'utf8')), 'config.json');
  const backend = await OnnxBackend.load(glmEdgeGraphFile(directory, variant), { prepacking: true });
  try {
    const graph = new CausalLmGraph(backend, config.info);
    let single = Number.NaN;
    for (const rows of rowCounts) {
      const caches = Array.from({ length: rows }, () => graph.createCache());
      for (const [row, cache] of caches.entries()) await graph.forward(promptIds(32).map((id) => id + row), cache);
      const ids = caches.map((_, row) => 1000 + row);
      for (let step = 0; step < 3; step++) await graph.forwardBatch(ids, caches); // warm-up: this batch's shapes
      const times: number[] = [];
      for (let step = 0; step < 16; step++) {
        const start = performance.now();
        await graph.forwardBatch(ids, caches);
        times.push(performance.now() - start);
      }
      const ms = median(times);
      if (rows === 1) single = ms;
      const cost = ms / single;
      console.log(`${variant} | ${rows} | ${ms.toFixed(1)} | ${cost.toFixed(2)}x | ${((rows * 1000) / ms).toFixed(0)} | ${(rows / cost).toFixed(2)}x`);
    }
  } finally {
    await backend.dispose();
  }
}
