import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors';
import { createTinyGlm } from '../../src/index';
import { CausalLmGraph } from '../../src/models/causal-lm-graph';
import { GlmModel } from '../../src/models/glm-model';
import { parseModelConfig } from '../../src/models/model-config';
import { resolveModelFiles } from '../../src/models/model-files';
import { OnnxBackend } from '../../src/models/onnx-backend';
import { graphNeedsPrepacking } from '../../src/models/prepacking';

let root: string;
let optimumDir: string;
let gqaDir: string;
let int4Dir: string;
const ids = [5, 17, 99, 3, 250, 42, 8, 120, 7, 64, 31, 200, 11];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-memory-'));
  optimumDir = path.join(root, 'optimum');
  gqaDir = path.join(root, 'gqa');
  int4Dir = path.join(root, 'int4');
  await createTinyGlm(optimumDir, { family: 'glm', seed: 5, externalData: true });
  await createTinyGlm(gqaDir, { family: 'glm', seed: 5, attention: 'gqa', headDim: 16 });
  await createTinyGlm(int4Dir, { family: 'glm', seed: 5, quantization: 'int4', hiddenSize: 64, intermediateSize: 192 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function loadGraph(dir: string, prefillChunkSize?: number, prepacking?: boolean): Promise<CausalLmGraph> {
  const files = resolveModelFiles(dir);
  const config = parseModelConfig(JSON.parse(await readFile(files.configFile, 'utf8')), files.configFile);
  return new CausalLmGraph(await OnnxBackend.load(files.onnxFile, prepacking === undefined ? {} : { prepacking }), config.info, {
    ...(files.genai ? { names: files.genai.names, sharedBuffer: { maxLength: 64, growthStep: 8 } } : {}),
    ...(prefillChunkSize === undefined ? {} : { prefillChunkSize }),
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('chunked prefill', () => {
  for (const [name, dir] of [
    ['Optimum layout (growing past)', () => optimumDir],
    ['genai layout (shared buffer)', () => gqaDir],
  ] as const) {
    it(`${name}: chunks of 4 give the logits and cache of one run`, async () => {
      const whole = await loadGraph(dir());
      const chunked = await loadGraph(dir(), 4);
      try {
        expect(chunked.prefillChunkSize).toBe(4);
        const wholeCache = whole.createCache();
        const chunkedCache = chunked.createCache();
        const expected = Float32Array.from(await whole.forward(ids, wholeCache));
        const actual = await chunked.forward(ids, chunkedCache);
        expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-4);
        expect(chunkedCache.tokenIds).toEqual(ids);
        // The next step reads the chunk-built cache as it would the one-run cache.
        const next = Float32Array.from(await whole.forward([9], wholeCache));
        expect(maxAbsDiff(await chunked.forward([9], chunkedCache), next)).toBeLessThan(1e-4);
      } finally {
        await whole.backend.dispose();
        await chunked.backend.dispose();
      }
    });
  }

  it('rejects a chunk size that is not a positive integer', async () => {
    await expect(GlmModel.load(optimumDir, { prefillChunkSize: 0 })).rejects.toThrow(ModelLoadError);
    await expect(GlmModel.load(optimumDir, { prefillChunkSize: 2.5 })).rejects.toThrow(/prefillChunkSize must be a positive integer/);
  });
});

describe('pre-packing', () => {
  it('is off by default for float graphs and on for MatMulNBits graphs (read from the real files)', () => {
    expect(graphNeedsPrepacking(resolveModelFiles(optimumDir))).toBe(false);
    expect(graphNeedsPrepacking(resolveModelFiles(gqaDir))).toBe(false);
    expect(graphNeedsPrepacking(resolveModelFiles(int4Dir))).toBe(true);
  });

  it('does not change what a model generates (fp32 and int4, with and without, chunked or not)', async () => {
    const prompt = [{ role: 'user' as const, content: 'Tell me a story about a cat.' }];
    for (const dir of [optimumDir, int4Dir]) {
      const outputs: number[][] = [];
      for (const options of [{ prepacking: true, prefillChunkSize: 4096 }, { prepacking: false, prefillChunkSize: 3 }, {}]) {
        const model = await GlmModel.load(dir, options);
        try {
          outputs.push((await model.generate(prompt, { maxNewTokens: 8, temperature: 0 })).tokenIds);
        } finally {
          await model.dispose();
        }
      }
      expect(outputs[0]).toHaveLength(8);
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[2]).toEqual(outputs[0]);
    }
  });
});
