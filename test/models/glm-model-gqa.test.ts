import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, ModelLoadError } from '../../src/errors';
import { createTinyGlm, type TinyGlmOptions } from '../../src/index';
import { CausalLmGraph } from '../../src/models/causal-lm-graph';
import { GlmModel } from '../../src/models/glm-model';
import type { ChatMessage } from '../../src/models/language-model';
import { parseModelConfig } from '../../src/models/model-config';
import { resolveModelFiles } from '../../src/models/model-files';
import { OnnxBackend } from '../../src/models/onnx-backend';
import { SharedKvCache } from '../../src/models/shared-kv-cache';
import { loadReferenceModel } from '../support/reference-forward';
import { streamWithAbort } from '../support/stream-with-abort';

const shape: TinyGlmOptions = { family: 'glm4', seed: 21, hiddenSize: 128, heads: 4, kvHeads: 2, maxPositionEmbeddings: 256 };
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three prime numbers, please.' },
];

let root: string;
let standardDir: string;
let gqaDir: string;
let standard: GlmModel;
let gqa: GlmModel;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-gqa-'));
  standardDir = path.join(root, 'standard');
  gqaDir = path.join(root, 'gqa');
  await createTinyGlm(standardDir, shape);
  await createTinyGlm(gqaDir, { ...shape, attention: 'gqa' });
  standard = await GlmModel.load(standardDir);
  gqa = await GlmModel.load(gqaDir);
});

afterAll(async () => {
  await standard?.dispose();
  await gqa?.dispose();
  await rm(root, { recursive: true, force: true });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function loadGraph(dir: string, onnxFile: string, sharedBuffer?: { maxLength: number; growthStep: number }): Promise<CausalLmGraph> {
  const files = resolveModelFiles(dir);
  const config = parseModelConfig(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')), 'config.json');
  return new CausalLmGraph(await OnnxBackend.load(path.join(dir, onnxFile)), config.info, {
    ...(files.genai ? { names: files.genai.names } : {}),
    ...(sharedBuffer ? { sharedBuffer } : {}),
  });
}

describe('GlmModel on the onnxruntime-genai layout (GroupQueryAttention, shared KV buffer)', () => {
  it('resolves the genai files and has the same weights as the standard variant', () => {
    const files = resolveModelFiles(gqaDir);
    expect(files).toMatchObject({ layout: 'genai', dtype: undefined, onnxFile: path.join(gqaDir, 'model.onnx'), externalDataFiles: [] });
    expect(files.genai).toMatchObject({ filename: 'model.onnx', pastPresentShareBuffer: true, contextLength: 256, layers: 2, kvHeads: 2 });
    expect(files.genai?.names.positionIds).toBeUndefined();
    expect(resolveModelFiles(standardDir)).toMatchObject({ layout: 'optimum', dtype: 'fp32', genai: undefined });

    const a = loadReferenceModel(standardDir).weights;
    const b = loadReferenceModel(gqaDir, 'model.onnx').weights;
    const names = [...a.keys()].filter((name) => name.startsWith('model.') || name.startsWith('lm_head'));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const [left, right] = [a.get(name), b.get(name)];
      expect(right, name).toBeDefined();
      expect(Buffer.compare(Buffer.from(left!.buffer, left!.byteOffset, left!.byteLength), Buffer.from(right!.buffer, right!.byteOffset, right!.byteLength)), name).toBe(0);
    }
  });

  it('greedy tokens equal the standard variant', async () => {
    const expected = await standard.generate(conversation, { maxNewTokens: 16, prefixCache: false });
    const actual = await gqa.generate(conversation, { maxNewTokens: 16, prefixCache: false });
    expect(actual.tokenIds).toHaveLength(16);
    expect(actual.tokenIds).toEqual(expected.tokenIds);
    expect(actual.text).toBe(expected.text);
  });

  it('the shared buffer grows in steps, is written in place, and truncation reuses it without a copy', async () => {
    const reference = await loadGraph(standardDir, 'onnx/model.onnx');
    const graph = await loadGraph(gqaDir, 'model.onnx', { maxLength: 64, growthStep: 8 });
    try {
      const ids = [5, 61, 7, 300, 99, 3, 250, 18, 64, 101, 33, 12, 90, 4, 77, 140, 8, 41, 29];
      const full = await reference.forward(ids, reference.createCache(), { allPositions: true });
      const vocab = reference.info.vocabSize;
      const cache = graph.createCache();
      expect(cache).toBeInstanceOf(SharedKvCache);
      const shared = cache as SharedKvCache;
      const check = (logits: Float32Array, position: number) =>
        expect(maxAbsDiff(logits, full.subarray(position * vocab, (position + 1) * vocab)), `position ${position}`).toBeLessThan(1e-3);

      check(await graph.forward(ids.slice(0, 5), shared), 4);
      expect(shared.capacity).toBe(8);
      for (let position = 5; position < 12; position++) check(await graph.forward([ids[position]], shared), position);
      expect(shared.capacity).toBe(16); // grew once, keeping the first 8 positions
      expect(shared.length).toBe(12);

      // Prefix reuse: keep 7 positions, then run a 6-token chunk on top of them (a subsequent prompt).
      shared.truncate(7);
      expect(shared.capacity).toBe(16);
      check(await graph.forward(ids.slice(7, 13), shared), 12);
      for (let position = 13; position < ids.length; position++) check(await graph.forward([ids[position]], shared), position);
      expect(shared.tokenIds).toEqual(ids);
      expect(shared.capacity).toBe(24);

      shared.clear();
      expect(shared.length).toBe(0);
      check(await graph.forward(ids.slice(0, 3), shared), 2);
      await expect(graph.forward(new Array(70).fill(5), shared)).rejects.toThrow(/at most 64/);
    } finally {
      await reference.backend.dispose();
      await graph.backend.dispose();
    }
  });

  it('prefix cache: a warm extension equals a cold run and prefills only the suffix', async () => {
    const first = await gqa.generate(conversation, { maxNewTokens: 6 });
    const extended: ChatMessage[] = [...conversation, { role: 'assistant', content: first.text }, { role: 'user', content: 'And three more?' }];
    const promptTokens = gqa.countTokens(extended);
    const warm = await gqa.generate(extended, { maxNewTokens: 10 });
    expect(warm.usage.cachedTokens).toBeGreaterThanOrEqual(gqa.countTokens(conversation));
    expect(warm.usage.prefillTokens).toBe(promptTokens - warm.usage.cachedTokens);
    const cold = await gqa.generate(extended, { maxNewTokens: 10, prefixCache: false });
    expect(cold.usage.prefillTokens).toBe(promptTokens);
    expect(warm.tokenIds).toEqual(cold.tokenIds);
    expect(cold.tokenIds).toEqual((await standard.generate(extended, { maxNewTokens: 10, prefixCache: false })).tokenIds);
    // A shorter, diverging prompt after a longer one: the buffer keeps stale positions past the valid length.
    const again = await gqa.generate(conversation, { maxNewTokens: 6 });
    expect(again.usage.cachedTokens).toBeGreaterThan(0);
    expect(again.tokenIds).toEqual(first.tokenIds);
  });

  it('stop strings and aborts still work', async () => {
    const reference = await gqa.generate(conversation, { maxNewTokens: 12, prefixCache: false });
    const stopAt = reference.text.slice(6, 9);
    const stopped = await gqa.generate(conversation, { maxNewTokens: 12, stop: [stopAt] });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).toBe(reference.text.slice(0, reference.text.indexOf(stopAt)));

    const { tokens, end } = await streamWithAbort(gqa, conversation, 3);
    expect(end).toMatchObject({ type: 'end', finishReason: 'abort', tokenIds: tokens });
    expect(tokens).toEqual(reference.tokenIds.slice(0, 3));
  });
});

describe('fp16 GroupQueryAttention graph', () => {
  it('decodes with a float16 shared buffer; a warm prefix equals a cold run', async () => {
    const dir = path.join(root, 'gqa-fp16');
    await createTinyGlm(dir, { ...shape, attention: 'gqa', dtype: 'fp16' });
    const model = await GlmModel.load(dir);
    try {
      const first = await model.generate(conversation, { maxNewTokens: 6 });
      expect(first.tokenIds).toHaveLength(6);
      const extended: ChatMessage[] = [...conversation, { role: 'assistant', content: first.text }, { role: 'user', content: 'More?' }];
      const warm = await model.generate(extended, { maxNewTokens: 8 });
      expect(warm.usage.cachedTokens).toBeGreaterThan(0);
      const cold = await model.generate(extended, { maxNewTokens: 8, prefixCache: false });
      expect(warm.tokenIds).toEqual(cold.tokenIds);
    } finally {
      await model.dispose();
    }
  });
});

describe('genai layout errors', () => {
  async function copyWithGenai(name: string, edit: (genai: Record<string, any>) => void): Promise<string> {
    const dir = path.join(root, name);
    await createTinyGlm(dir, { ...shape, attention: 'gqa' });
    const file = path.join(dir, 'genai_config.json');
    const genai = JSON.parse(await readFile(file, 'utf8'));
    edit(genai);
    await writeFile(file, JSON.stringify(genai));
    return dir;
  }

  it('names the inconsistent or missing field', async () => {
    const layers = await copyWithGenai('layers', (genai) => (genai.model.decoder.num_hidden_layers = 3));
    await expect(GlmModel.load(layers)).rejects.toThrow(ModelFormatError);
    await expect(GlmModel.load(layers)).rejects.toThrow(/num_hidden_layers is 3 but .*config\.json gives 2/);

    const noName = await copyWithGenai('no-kv-name', (genai) => (genai.model.decoder.inputs.past_key_names = 'past_key'));
    expect(() => resolveModelFiles(noName)).toThrow(/model\.decoder\.inputs\.past_key_names is invalid: must contain %d/);

    const missingGraph = await copyWithGenai('missing-graph', (genai) => (genai.model.decoder.filename = 'decoder.onnx'));
    expect(() => resolveModelFiles(missingGraph)).toThrow(ModelLoadError);
    expect(() => resolveModelFiles(missingGraph)).toThrow(/decoder\.onnx.*model\.decoder\.filename/);

    const escape = await copyWithGenai('escape', (genai) => (genai.model.decoder.filename = '../standard/onnx/model.onnx'));
    expect(() => resolveModelFiles(escape)).toThrow(/inside the model directory/);

    expect(() => resolveModelFiles(gqaDir, { dtype: 'q4' })).toThrow(/genai layout.*Leave dtype unset/);
  });

  it('a genai graph without a shared buffer runs on the growing cache', async () => {
    const dir = await copyWithGenai('no-share', (genai) => (genai.search.past_present_share_buffer = false));
    const model = await GlmModel.load(dir);
    try {
      const expected = await standard.generate(conversation, { maxNewTokens: 8, prefixCache: false });
      expect((await model.generate(conversation, { maxNewTokens: 8 })).tokenIds).toEqual(expected.tokenIds);
    } finally {
      await model.dispose();
    }
  });
});
