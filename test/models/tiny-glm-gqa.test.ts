import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmInfo, type TinyGlmOptions } from '../../src/index';
import { loadReferenceModel, referenceForward } from '../support/reference-forward';
import { sharedBufferStepper } from '../support/shared-buffer-stepper';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-gqa-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const prompt = [12, 45, 7, 300, 99, 3, 250, 18, 64, 101];
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

function maxAbsDiff(actual: Float32Array, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

const matrix: [string, TinyGlmOptions][] = [
  ['glm4, partial rotary (16 of 32), bias', { family: 'glm4', hiddenSize: 128, heads: 4, kvHeads: 2 }],
  ['glm, full rotary, no bias, tied', { family: 'glm', hiddenSize: 64, heads: 4, kvHeads: 1, tieWordEmbeddings: true }],
];

describe.each(matrix)("createTinyGlm attention: 'gqa' %s", (label, options) => {
  let info: TinyGlmInfo;
  let session: ort.InferenceSession;
  let reference: ReturnType<typeof loadReferenceModel>;
  const maxLength = 32;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, label.replace(/\W+/g, '-')), { ...options, attention: 'gqa', maxPositionEmbeddings: maxLength, seed: 5 });
    session = await ort.InferenceSession.create(info.modelPath);
    reference = loadReferenceModel(info.directory, 'model.onnx');
  });
  afterAll(async () => {
    await session?.release();
  });

  it('writes the onnxruntime-genai layout without position_ids', async () => {
    expect(info.files).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'genai_config.json', 'model.onnx']);
    const pasts = Array.from({ length: info.options.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', ...pasts, 'num_logits_to_keep']);
    const genai = JSON.parse(await readFile(path.join(info.directory, 'genai_config.json'), 'utf8'));
    expect(genai.model.decoder).toMatchObject({
      filename: 'model.onnx',
      head_size: info.options.headDim,
      num_key_value_heads: info.options.kvHeads,
      inputs: { past_key_names: 'past_key_values.%d.key' },
      outputs: { present_value_names: 'present.%d.value' },
    });
    expect(genai.search.past_present_share_buffer).toBe(true);
    expect(genai.model.eos_token_id).toEqual(info.eosTokenIds);
  });

  it('matches the reference with past and present sharing one max-length buffer', async () => {
    const { kvHeads, headDim, vocab } = info.options;
    const { buffers, step } = sharedBufferStepper(session, info.options, maxLength);

    const expected = referenceForward(reference, { inputIds: [prompt] }).logits[0];
    const prefill = await step(prompt.slice(0, 6), 6, 0);
    expect(prefill.logits.dims).toEqual([1, 6, vocab]);
    expect(maxAbsDiff(prefill.logits.data as Float32Array, expected.slice(0, 6).flatMap((row) => Array.from(row)))).toBeLessThan(1e-4);
    expect(prefill['present.0.key'].dims).toEqual([1, kvHeads, maxLength, headDim]);
    for (let position = 6; position < prompt.length; position++) {
      const out = await step([prompt[position]], position + 1, 1);
      expect(maxAbsDiff(out.logits.data as Float32Array, expected[position]), `position ${position}`).toBeLessThan(1e-4);
    }
    // The shared buffer holds the reference's keys for every position so far, and zeros after them.
    const key = buffers['1.key'].data as Float32Array;
    const reference1 = referenceForward(reference, { inputIds: [prompt] }).present.keys[1][0];
    for (let h = 0; h < kvHeads; h++) {
      const rows = reference1[h].flat();
      expect(maxAbsDiff(key.subarray(h * maxLength * headDim, h * maxLength * headDim + rows.length), rows)).toBeLessThan(1e-4);
      expect(key[h * maxLength * headDim + prompt.length * headDim]).toBe(0);
    }
  });

  it('matches the reference when the past grows instead (no shared buffer)', async () => {
    const { layers, kvHeads, headDim } = info.options;
    let past: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < layers; layer++) {
      for (const kind of ['key', 'value']) past[`present.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    }
    const expected = referenceForward(reference, { inputIds: [prompt] }).logits[0];
    const chunks = [prompt.slice(0, 7), [prompt[7]], [prompt[8]], [prompt[9]]];
    let done = 0;
    for (const chunk of chunks) {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(chunk, [1, chunk.length]),
        attention_mask: int64(new Array(done + chunk.length).fill(1), [1, done + chunk.length]),
        num_logits_to_keep: int64([1], []),
      };
      for (let layer = 0; layer < layers; layer++) {
        for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = past[`present.${layer}.${kind}`];
      }
      const out = await session.run(feeds);
      done += chunk.length;
      expect(out['present.0.value'].dims).toEqual([1, kvHeads, done, headDim]);
      expect(maxAbsDiff(out.logits.data as Float32Array, expected[done - 1]), `after ${done} tokens`).toBeLessThan(1e-4);
      past = out;
    }
  });
});

describe("attention: 'gqa' validation", () => {
  it('refuses head sizes GroupQueryAttention cannot rotate', async () => {
    await expect(createTinyGlm(path.join(root, 'bad'), { attention: 'gqa', hiddenSize: 32, heads: 4 })).rejects.toMatchObject({
      code: 'MODEL_FORMAT',
      details: { field: 'attention' },
    });
  });
});
