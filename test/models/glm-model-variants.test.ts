import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-variants-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const prompt = [{ role: 'user' as const, content: 'Tell me a story about a cat.' }];

describe('GlmModel on other graph variants', () => {
  it('fp16 weights, KV and logits (model_fp16.onnx): prefix-cached decode equals a cold run', async () => {
    const dir = path.join(root, 'fp16');
    await createTinyGlm(dir, { family: 'glm4', seed: 2, dtype: 'fp16' });
    const model = await GlmModel.load(dir, { dtype: 'fp16' });
    try {
      expect(model.files.dtype).toBe('fp16');
      const first = await model.generate(prompt, { maxNewTokens: 12, prefixCache: false });
      expect(first.tokenIds).toHaveLength(12);
      const again = await model.generate(prompt, { maxNewTokens: 12 });
      expect(again.usage.cachedTokens).toBe(again.usage.promptTokens - 1);
      expect(again.tokenIds).toEqual(first.tokenIds);
    } finally {
      await model.dispose();
    }
  });

  it('int4 MatMulNBits (model_q4.onnx) is picked when it is the only graph', async () => {
    const dir = path.join(root, 'q4');
    await createTinyGlm(dir, { family: 'glm', seed: 3, quantization: 'int4', hiddenSize: 64, intermediateSize: 192 });
    const model = await GlmModel.load(dir);
    try {
      expect(model.files.dtype).toBe('q4');
      const result = await model.generate(prompt, { maxNewTokens: 6 });
      expect(result.tokenIds).toHaveLength(6);
    } finally {
      await model.dispose();
    }
  });

  it('the onnxruntime-genai layout (gqa) loads from genai_config.json', async () => {
    const dir = path.join(root, 'gqa');
    await createTinyGlm(dir, { family: 'glm', seed: 4, attention: 'gqa', headDim: 16 });
    const model = await GlmModel.load(dir);
    try {
      expect(model.files).toMatchObject({ layout: 'genai', dtype: undefined, onnxFile: path.join(dir, 'model.onnx') });
      const result = await model.generate(prompt, { maxNewTokens: 6 });
      expect(result.tokenIds).toHaveLength(6);
    } finally {
      await model.dispose();
    }
  });
});
