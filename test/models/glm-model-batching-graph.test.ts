/**
 * CausalLmGraph.forwardBatch: one decode step of several sequences in one run, on the growing past (Optimum) and the
 * shared buffer (GroupQueryAttention) tiny graphs, against each sequence run alone; members join and leave.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmOptions } from '../../src/index';
import { CausalLmGraph } from '../../src/models/causal-lm-graph';
import type { KeyValueCache } from '../../src/models/kv-cache';
import { parseModelConfig } from '../../src/models/model-config';
import { resolveModelFiles } from '../../src/models/model-files';
import { OnnxBackend } from '../../src/models/onnx-backend';

const shape: TinyGlmOptions = { family: 'glm4', seed: 5, hiddenSize: 128, heads: 4, kvHeads: 2, maxPositionEmbeddings: 256 };
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'batching-graph-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function loadGraph(dir: string): Promise<CausalLmGraph> {
  const files = resolveModelFiles(dir);
  const config = parseModelConfig(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')), 'config.json');
  return new CausalLmGraph(await OnnxBackend.load(files.onnxFile), config.info, {
    ...(files.genai ? { names: files.genai.names } : {}),
    ...(files.genai?.pastPresentShareBuffer ? { sharedBuffer: { maxLength: 256, growthStep: 16 } } : {}),
  });
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const prompts = [
  [5, 61, 7, 300, 99],
  [3, 250, 18, 64, 101, 33, 12, 90, 4, 77, 140],
  [8, 41],
  [29, 31, 37, 41, 43, 47, 53],
];

describe.each([
  ['growing past (Optimum)', {} as Partial<TinyGlmOptions>],
  ['shared buffer (GroupQueryAttention)', { attention: 'gqa' } as Partial<TinyGlmOptions>],
])('CausalLmGraph.forwardBatch, %s', (name, variant) => {
  it('steps of 2 to 4 rows, with members joining and leaving, give each row the logits it gets alone', async () => {
    const dir = path.join(root, name.replace(/\W+/g, '-'));
    await createTinyGlm(dir, { ...shape, ...variant });
    const graph = await loadGraph(dir);
    try {
      // Alone: each prompt greedily for 20 steps; the logits of every step kept.
      const alone: Float32Array[][] = [];
      for (const prompt of prompts) {
        const cache = graph.createCache();
        let logits = (await graph.forward(prompt, cache)).slice();
        const steps: Float32Array[] = [logits];
        for (let step = 0; step < 20; step++) {
          logits = (await graph.forward([argmax(logits)], cache)).slice();
          steps.push(logits);
        }
        alone.push(steps);
      }
      // Batched: rows 0-2 from the start, row 1 leaves after step 8, row 3 joins at step 5.
      const caches: KeyValueCache[] = prompts.map(() => graph.createCache());
      const position = prompts.map(() => 0);
      const last: Float32Array[] = [];
      for (const [row, prompt] of prompts.entries()) last[row] = (await graph.forward(prompt, caches[row]!)).slice();
      let worst = 0;
      for (let step = 0; step < 20; step++) {
        const rows = [0, 2, ...(step < 8 ? [1] : []), ...(step >= 5 ? [3] : [])].filter((row) => position[row]! < 20);
        const ids = rows.map((row) => argmax(last[row]!));
        rows.forEach((row, index) => expect(ids[index], `row ${row} step ${position[row]}`).toBe(argmax(alone[row]![position[row]!]!)));
        const logits = await graph.forwardBatch(ids, rows.map((row) => caches[row]!));
        rows.forEach((row, index) => {
          position[row]!++;
          last[row] = logits[index]!.slice();
          worst = Math.max(worst, maxAbsDiff(last[row]!, alone[row]![position[row]!]!));
        });
      }
      expect(worst).toBeLessThan(1e-4);
      expect(graph.batchRepacks).toBeGreaterThanOrEqual(3);
      // A steady batch keeps its packed keys and values: no repack while the members stay.
      const repacks = graph.batchRepacks;
      const steady = [0, 2];
      for (let step = 0; step < 5; step++) {
        const logits = await graph.forwardBatch(steady.map((row) => argmax(last[row]!)), steady.map((row) => caches[row]!));
        steady.forEach((row, index) => (last[row] = logits[index]!.slice()));
      }
      expect(graph.batchRepacks).toBe(repacks + 1);
      // The caches got their keys and values back: a solo step on a packed member continues it exactly.
      const solo = await graph.forward([argmax(last[0]!)], caches[0]!);
      expect(caches[0]!.length).toBe(prompts[0]!.length + 26);
      expect(Number.isFinite(solo[0])).toBe(true);
      caches[3]!.truncate(3);
      const again = await graph.forward(prompts[3]!.slice(3), caches[3]!);
      expect(maxAbsDiff(again, alone[3]![0]!)).toBeLessThan(1e-4);
    } finally {
      await graph.backend.dispose();
    }
  });
});
