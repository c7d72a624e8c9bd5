import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmInfo } from '../../src/index';
import { loadReferenceModel, referenceForward } from '../support/reference-forward';

const { onnx } = onnxProto;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-int4-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const prompt = [12, 45, 7, 300, 99, 3, 250, 18];
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

async function runPrompt(session: ort.InferenceSession, info: TinyGlmInfo, ids: number[]): Promise<Float32Array> {
  const { layers, kvHeads, headDim } = info.options;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(new Array(ids.length).fill(1), [1, ids.length]),
    num_logits_to_keep: int64([0], []),
  };
  if (session.inputNames.includes('position_ids')) feeds.position_ids = int64(ids.map((_, i) => i), [1, ids.length]);
  for (let layer = 0; layer < layers; layer++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    }
  }
  return (await session.run(feeds)).logits.data as Float32Array;
}

function maxAbsDiff(actual: Float32Array, expected: Float64Array[]): number {
  const flat = expected.flatMap((row) => Array.from(row));
  let max = 0;
  for (let i = 0; i < flat.length; i++) max = Math.max(max, Math.abs(actual[i] - flat[i]));
  return max;
}

describe.each([
  ['standard', { family: 'glm4', hiddenSize: 64, heads: 4, kvHeads: 2 }],
  ['gqa', { family: 'glm', hiddenSize: 64, heads: 4, kvHeads: 2, attention: 'gqa', maxPositionEmbeddings: 64 }],
] as const)("createTinyGlm quantization: 'int4' (%s attention)", (attention, options) => {
  let info: TinyGlmInfo;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, attention), { ...options, quantization: 'int4', seed: 11 });
    session = await ort.InferenceSession.create(info.modelPath);
  });
  afterAll(async () => {
    await session?.release();
  });

  it('names the file as real q4 exports do and tells transformers.js its dtype', async () => {
    expect(path.relative(info.directory, info.modelPath)).toBe(attention === 'gqa' ? 'model.onnx' : path.join('onnx', 'model_q4.onnx'));
    const config = JSON.parse(await readFile(path.join(info.directory, 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ dtype: 'q4' });
  });

  it('computes the logits of the reference run on the dequantized weights', async () => {
    const logits = await runPrompt(session, info, prompt);
    const reference = loadReferenceModel(info.directory, path.relative(info.directory, info.modelPath));
    expect(reference.weights.has('model.layers.0.mlp.down_proj.weight')).toBe(true);
    expect(maxAbsDiff(logits, referenceForward(reference, { inputIds: [prompt] }).logits[0])).toBeLessThan(1e-4);
  });

  it('quantizes the float weights of the same seed to within half a step', async () => {
    const float = await createTinyGlm(path.join(root, `${attention}-fp32`), { ...options, seed: 11 });
    const floatWeights = loadReferenceModel(float.directory, path.relative(float.directory, float.modelPath)).weights;
    const int4Weights = loadReferenceModel(info.directory, path.relative(info.directory, info.modelPath)).weights;
    const name = 'model.layers.1.self_attn.q_proj.weight';
    const a = floatWeights.get(name)!;
    const b = int4Weights.get(name)!;
    expect(b.length).toBe(a.length);
    let worst = 0;
    let equal = 0;
    for (let block = 0; block < a.length / 32; block++) {
      let absMax = 0;
      for (let j = 0; j < 32; j++) absMax = Math.max(absMax, Math.abs(a[block * 32 + j]));
      for (let j = 0; j < 32; j++) {
        const i = block * 32 + j;
        worst = Math.max(worst, Math.abs(a[i] - b[i]) / (absMax / 7));
        if (a[i] === b[i]) equal++;
      }
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(equal).toBeLessThan(a.length / 4);
    // Norms and embeddings stay float32 and identical.
    expect(int4Weights.get('model.norm.weight')).toEqual(floatWeights.get('model.norm.weight'));
  });
});

describe("createTinyGlm quantization: 'int4' with tied embeddings", () => {
  let info: TinyGlmInfo;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, 'tied'), { hiddenSize: 64, heads: 4, kvHeads: 2, tieWordEmbeddings: true, quantization: 'int4', seed: 5 });
  });

  it('gives the lm_head its own MatMulNBits weights and keeps the embedding lookup float32', async () => {
    const model = onnx.ModelProto.decode(await readFile(info.modelPath));
    const initializers = new Map((model.graph?.initializer ?? []).map((tensor) => [tensor.name, tensor]));
    expect(initializers.get('lm_head.weight_Q4')?.dataType).toBe(onnx.TensorProto.DataType.UINT8);
    expect(initializers.get('lm_head.weight_Q4')?.dims?.map(Number)).toEqual([info.options.vocab, 64 / 32, 16]);
    expect(initializers.get('model.embed_tokens.weight')?.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    const nodes = model.graph?.node ?? [];
    const lmHead = nodes.find((node) => node.output?.includes('logits') || node.name === 'lm_head');
    expect(lmHead?.opType).toBe('MatMulNBits');
    // The float embedding matrix feeds only the Gather of the input ids.
    const readers = nodes.filter((node) => node.input?.includes('model.embed_tokens.weight')).map((node) => node.opType);
    expect(readers).toEqual(['Gather']);
  });

  it('computes the logits of the reference run on the dequantized lm_head, within half a step of the embedding', async () => {
    const session = await ort.InferenceSession.create(info.modelPath);
    try {
      const logits = await runPrompt(session, info, prompt);
      const reference = loadReferenceModel(info.directory, path.relative(info.directory, info.modelPath));
      expect(maxAbsDiff(logits, referenceForward(reference, { inputIds: [prompt] }).logits[0])).toBeLessThan(1e-4);
      const embedding = reference.weights.get('model.embed_tokens.weight')!;
      const lmHead = reference.weights.get('lm_head.weight')!;
      expect(lmHead.length).toBe(embedding.length);
      let worst = 0;
      for (let block = 0; block < embedding.length / 32; block++) {
        let absMax = 0;
        for (let j = 0; j < 32; j++) absMax = Math.max(absMax, Math.abs(embedding[block * 32 + j]));
        for (let j = 0; j < 32; j++) worst = Math.max(worst, Math.abs(embedding[block * 32 + j] - lmHead[block * 32 + j]) / (absMax / 7));
      }
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-5);
    } finally {
      await session.release();
    }
  });
});

describe('int4 options', () => {
  it('refuses widths that are not multiples of the block size', async () => {
    await expect(createTinyGlm(path.join(root, 'bad'), { quantization: 'int4', hiddenSize: 48, heads: 4 })).rejects.toMatchObject({
      code: 'MODEL_FORMAT',
      details: { field: 'hiddenSize' },
    });
  });
});
