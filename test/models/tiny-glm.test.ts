import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmInfo, type TinyGlmOptions } from '../../src/index';
import { loadReferenceModel, referenceForward, type ReferenceCache } from '../support/reference-forward';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface RunInput {
  inputIds: number[][];
  attentionMask?: number[][];
  positionIds?: number[][];
  /** The previous run's outputs: its present.* tensors become the past. */
  past?: Record<string, ort.Tensor>;
  keep?: number;
}

async function run(session: ort.InferenceSession, info: TinyGlmInfo, input: RunInput) {
  const batch = input.inputIds.length;
  const seq = input.inputIds[0].length;
  const pastLength = input.past ? input.past['present.0.key'].dims[2] : 0;
  const mask = input.attentionMask ?? input.inputIds.map(() => new Array<number>(pastLength + seq).fill(1));
  const positions = input.positionIds ?? input.inputIds.map(() => Array.from({ length: seq }, (_, s) => pastLength + s));
  const int64 = (rows: number[][]) =>
    new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(input.inputIds),
    attention_mask: int64(mask),
    position_ids: int64(positions),
  };
  const { kvHeads, headDim, layers } = info.options;
  for (let layer = 0; layer < layers; layer++) {
    for (const kind of ['key', 'value']) {
      const name = `past_key_values.${layer}.${kind}`;
      feeds[name] = input.past?.[`present.${layer}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
    }
  }
  if (session.inputNames.includes('num_logits_to_keep')) {
    feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([BigInt(input.keep ?? 0)]), []);
  }
  return session.run(feeds);
}

/** Max |onnx - reference| over the given (batch, position) pairs of logits [batch, seq, vocab]. */
function maxDiff(logits: ort.Tensor, reference: Float64Array[][], positions: [number, number][], offset = 0): number {
  const [, seq, vocab] = logits.dims;
  const data = logits.data as Float32Array;
  let max = 0;
  for (const [b, s] of positions) {
    for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(data[(b * seq + s - offset) * vocab + v] - reference[b][s][v]));
  }
  return max;
}

const prompt = [[12, 45, 7, 300, 99, 3, 250, 18, 64, 101]];

const matrix: [string, TinyGlmOptions][] = [
  ['glm, full rotary, no bias, untied', { family: 'glm', hiddenSize: 64, heads: 4, kvHeads: 2 }],
  ['glm, partial rotary, bias, tied', { family: 'glm', hiddenSize: 48, heads: 4, kvHeads: 4, partialRotaryFactor: 0.5, attentionBias: true, tieWordEmbeddings: true }],
  ['glm4, partial rotary, bias, untied', { family: 'glm4', hiddenSize: 64, heads: 4, kvHeads: 2 }],
  ['glm4, full rotary, no bias, tied, one kv head', { family: 'glm4', hiddenSize: 32, heads: 4, kvHeads: 1, headDim: 16, partialRotaryFactor: 1, attentionBias: false, tieWordEmbeddings: true }],
];

describe.each(matrix)('createTinyGlm %s', (_label, options) => {
  let info: TinyGlmInfo;
  let session: ort.InferenceSession;
  let reference: ReturnType<typeof loadReferenceModel>;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, _label.replace(/\W+/g, '-')), { ...options, seed: 7 });
    session = await ort.InferenceSession.create(info.modelPath);
    reference = loadReferenceModel(info.directory);
  });
  afterAll(async () => {
    await session?.release();
  });

  it('has the Optimum input and output names', () => {
    const pasts = Array.from({ length: info.options.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...pasts, 'num_logits_to_keep']);
    expect(session.outputNames).toEqual(['logits', ...pasts.map((name) => name.replace('past_key_values', 'present'))]);
  });

  it('computes the same logits as the reference forward pass', async () => {
    const out = await run(session, info, { inputIds: prompt });
    expect(out.logits.dims).toEqual([1, prompt[0].length, info.options.vocab]);
    const expected = referenceForward(reference, { inputIds: prompt });
    expect(maxDiff(out.logits, expected.logits, prompt[0].map((_, s) => [0, s]))).toBeLessThan(1e-4);
  });

  it('gives the same last logits when the prompt runs in two chunks with the KV cache', async () => {
    const full = await run(session, info, { inputIds: prompt, keep: 1 });
    expect(full.logits.dims).toEqual([1, 1, info.options.vocab]);
    const prefill = await run(session, info, { inputIds: [prompt[0].slice(0, 6)] });
    const middle = await run(session, info, { inputIds: [prompt[0].slice(6, 9)], past: prefill });
    expect(middle['present.0.key'].dims).toEqual([1, info.options.kvHeads, 9, info.options.headDim]);
    const last = await run(session, info, { inputIds: [prompt[0].slice(9)], past: middle, keep: 1 });
    const a = full.logits.data as Float32Array;
    const b = last.logits.data as Float32Array;
    let max = 0;
    for (let v = 0; v < a.length; v++) max = Math.max(max, Math.abs(a[v] - b[v]));
    expect(max).toBeLessThan(1e-4);

    // The cache itself matches the reference's keys (after RoPE) and values.
    const expected = referenceForward(reference, { inputIds: prompt });
    const key = last['present.1.key'].data as Float32Array;
    const { kvHeads, headDim } = info.options;
    let keyDiff = 0;
    for (let h = 0; h < kvHeads; h++) {
      for (let t = 0; t < 10; t++) {
        for (let d = 0; d < headDim; d++) keyDiff = Math.max(keyDiff, Math.abs(key[(h * 10 + t) * headDim + d] - expected.present.keys[1][0][h][t][d]));
      }
    }
    expect(keyDiff).toBeLessThan(1e-4);
  });

  it('handles a left-padded batch and keeps the last n positions with num_logits_to_keep', async () => {
    const pad = info.padTokenId;
    const inputIds = [prompt[0].slice(0, 8), [pad, pad, pad, ...prompt[0].slice(0, 5)]];
    const attentionMask = [new Array(8).fill(1), [0, 0, 0, 1, 1, 1, 1, 1]];
    const positionIds = [[0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 1, 2, 3, 4]];
    const out = await run(session, info, { inputIds, attentionMask, positionIds, keep: 3 });
    expect(out.logits.dims).toEqual([2, 3, info.options.vocab]);
    const expected = referenceForward(reference, { inputIds, attentionMask, positionIds });
    const kept: [number, number][] = [5, 6, 7].flatMap((s) => [[0, s], [1, s]] as [number, number][]);
    expect(maxDiff(out.logits, expected.logits, kept, 5)).toBeLessThan(1e-4);
    // The padded row's real tokens see only themselves: same logits as the unpadded 5-token prompt.
    const alone = referenceForward(reference, { inputIds: [prompt[0].slice(0, 5)] });
    const data = out.logits.data as Float32Array;
    const vocab = info.options.vocab;
    let max = 0;
    for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(data[(1 * 3 + 2) * vocab + v] - alone.logits[0][4][v]));
    expect(max).toBeLessThan(1e-4);
  });
});

describe('createTinyGlm files', () => {
  it('is deterministic for a seed, differs across seeds, and writes external data when asked', async () => {
    const options: TinyGlmOptions = { hiddenSize: 32, heads: 2, kvHeads: 1, layers: 1 };
    const a = await createTinyGlm(path.join(root, 'seed-a'), { ...options, seed: 1 });
    const b = await createTinyGlm(path.join(root, 'seed-b'), { ...options, seed: 1 });
    const c = await createTinyGlm(path.join(root, 'seed-c'), { ...options, seed: 2 });
    expect(a.files).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']);
    for (const file of a.files) {
      expect(Buffer.compare(await readFile(path.join(a.directory, file)), await readFile(path.join(b.directory, file))), file).toBe(0);
    }
    const weightsA = loadReferenceModel(a.directory).weights;
    const weightsC = loadReferenceModel(c.directory).weights;
    for (const [name, values] of weightsA) expect(Array.from(values), name).not.toEqual(Array.from(weightsC.get(name)!));

    const external = await createTinyGlm(path.join(root, 'external'), { ...options, seed: 1, externalData: true });
    expect(external.externalDataPath).toBe(path.join(external.directory, 'onnx', 'model.onnx_data'));
    expect(external.files).toContain('onnx/model.onnx_data');
    const graphBytes = (await stat(external.modelPath)).size;
    const dataBytes = (await stat(external.externalDataPath!)).size;
    expect(graphBytes).toBeLessThan(20_000);
    expect(dataBytes).toBeGreaterThanOrEqual(external.parameterCount * 4);
    const config = JSON.parse(await readFile(path.join(external.directory, 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ use_external_data_format: true });
    // Same weights as the inline model, so the same logits.
    const inline = await ort.InferenceSession.create(a.modelPath);
    const session = await ort.InferenceSession.create(external.modelPath);
    const x = await run(inline, a, { inputIds: prompt });
    const y = await run(session, external, { inputIds: prompt });
    expect(Array.from(y.logits.data as Float32Array)).toEqual(Array.from(x.logits.data as Float32Array));
    expect(loadReferenceModel(external.directory).weights.get('model.norm.weight')).toEqual(weightsA.get('model.norm.weight'));
    await inline.release();
    await session.release();
  });

  it('writes config.json with the Hugging Face field names', async () => {
    const info = await createTinyGlm(path.join(root, 'config-glm4'), { family: 'glm4', hiddenSize: 32, heads: 2, kvHeads: 1, layers: 1 });
    const config = JSON.parse(await readFile(path.join(info.directory, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['Glm4ForCausalLM'],
      model_type: 'glm4',
      vocab_size: info.tokenizerSize,
      hidden_size: 32,
      intermediate_size: 96,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 16,
      partial_rotary_factor: 0.5,
      rope_theta: 10000,
      rms_norm_eps: 1e-5,
      attention_bias: true,
      tie_word_embeddings: false,
      pad_token_id: info.specialTokens['<|endoftext|>'],
      eos_token_id: [info.specialTokens['<|endoftext|>'], info.specialTokens['<|user|>'], info.specialTokens['<|observation|>']],
    });
    const generation = JSON.parse(await readFile(path.join(info.directory, 'generation_config.json'), 'utf8'));
    expect(generation.eos_token_id).toEqual(config.eos_token_id);
  });

  it('rejects inconsistent options with a typed error naming the field', async () => {
    await expect(createTinyGlm(path.join(root, 'bad'), { heads: 4, kvHeads: 3 })).rejects.toMatchObject({ code: 'MODEL_FORMAT', details: { field: 'kvHeads' } });
    await expect(createTinyGlm(path.join(root, 'bad'), { vocab: 10 })).rejects.toMatchObject({ code: 'MODEL_FORMAT', details: { field: 'vocab' } });
    await expect(createTinyGlm(path.join(root, 'bad'), { tokenizer: path.join(root, 'missing.json') })).rejects.toMatchObject({ code: 'TOKENIZER' });
  });
});
