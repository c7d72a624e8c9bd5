/**
 * GlmModel against the bare `session.run` greedy loop in ONE process, alternating run by run, so both see the same
 * load on shared cores (a finer check of the suite's "GlmModel >= 0.97x the floor" goal than engine.bench.ts's
 * process-per-contender rounds), on the suite's fp32 Optimum model (bench/support/glm-edge-model.ts).
 *
 *   npx tsx bench/engine-interleaved.bench.ts [--pairs 6] [--prompt 32] [--decode 24]
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { GlmModel } from '../src/models/glm-model';
import { bareGreedyLoop } from './support/bare-greedy-loop';
import { promptIds } from './support/engine-contenders';
import { glmEdgeGraphFile, glmEdgeModel } from './support/glm-edge-model';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const pairs = argument('pairs', 6);
const promptTokens = argument('prompt', 32);
const decodeTokens = argument('decode', 24);
const dir = await glmEdgeModel('fp32');
const session = await ort.InferenceSession.create(glmEdgeGraphFile(dir, 'fp32'), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
const model = await GlmModel.load(dir);
const { layers, kvHeads, headDim } = model.info;
const ids = promptIds(promptTokens);
/** Milliseconds per decoded token after the first. */
async function floor(): Promise<number> {
  const run = await bareGreedyLoop(session, { layers, kvHeads, headDim }, ids, decodeTokens);
  return run.decodeMs / (decodeTokens - 1);
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
