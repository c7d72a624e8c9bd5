import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmInfo, type TinyGlmOptions } from '../../src/index';
import { loadReferenceModel, referenceForward } from '../support/reference-forward';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-fp16-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const prompt = [12, 45, 7, 300, 99, 3, 250, 18, 64, 101];
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  return exponent === 0 ? sign * fraction * 2 ** -24 : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

async function run(session: ort.InferenceSession, info: TinyGlmInfo, ids: number[], past?: Record<string, ort.Tensor>) {
  const { layers, kvHeads, headDim } = info.options;
  const pastLength = past ? past['present.0.key'].dims[2] : 0;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(new Array(pastLength + ids.length).fill(1), [1, pastLength + ids.length]),
    num_logits_to_keep: int64([0], []),
  };
  if (session.inputNames.includes('position_ids')) feeds.position_ids = int64(ids.map((_, i) => pastLength + i), [1, ids.length]);
  for (let layer = 0; layer < layers; layer++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${layer}.${kind}`] =
        past?.[`present.${layer}.${kind}`] ?? new ort.Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim]);
    }
  }
  return session.run(feeds);
}

/** fp16 logits [1, n, vocab] against reference rows; fp16 rounds a logit of ~3 to steps of ~2e-3. */
function maxDiff(logits: ort.Tensor, expected: Float64Array[]): number {
  const data = logits.data as Uint16Array;
  const vocab = expected[0].length;
  let max = 0;
  expected.forEach((row, t) => row.forEach((value, v) => (max = Math.max(max, Math.abs(halfToNumber(data[t * vocab + v]) - value)))));
  return max;
}

describe.each([
  ['glm4, standard attention', { family: 'glm4' }, 'onnx/model_fp16.onnx', 'fp16'],
  ['glm, gqa attention', { family: 'glm', attention: 'gqa', maxPositionEmbeddings: 64 }, 'model.onnx', 'fp16'],
  ['glm, int4 (q4f16)', { family: 'glm', quantization: 'int4' }, 'onnx/model_q4f16.onnx', 'q4f16'],
] as [string, TinyGlmOptions, string, string][])("createTinyGlm dtype: 'fp16' %s", (label, options, file, dtype) => {
  let info: TinyGlmInfo;
  let session: ort.InferenceSession;
  let reference: ReturnType<typeof loadReferenceModel>;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, label.replace(/\W+/g, '-')), { ...options, dtype: 'fp16', hiddenSize: 64, heads: 4, kvHeads: 2, seed: 9 });
    session = await ort.InferenceSession.create(info.modelPath);
    reference = loadReferenceModel(info.directory, file);
  });
  afterAll(async () => {
    await session?.release();
  });

  it('writes float16 weights, KV cache and logits under the Optimum file name', async () => {
    expect(path.relative(info.directory, info.modelPath)).toBe(path.normalize(file));
    const config = JSON.parse(await readFile(path.join(info.directory, 'config.json'), 'utf8'));
    expect(config.torch_dtype).toBe('float16');
    if (options.attention !== 'gqa') expect(config['transformers.js_config']).toEqual({ dtype });
    const out = await run(session, info, prompt.slice(0, 3));
    expect(out.logits.type).toBe('float16');
    expect(out['present.1.value'].type).toBe('float16');
  });

  it('matches the reference forward pass to fp16 precision, also with the KV cache', async () => {
    const expected = referenceForward(reference, { inputIds: [prompt] }).logits[0];
    const full = await run(session, info, prompt);
    expect(maxDiff(full.logits, expected)).toBeLessThan(1e-2);
    const first = await run(session, info, prompt.slice(0, 7));
    const rest = await run(session, info, prompt.slice(7), first);
    expect(maxDiff(rest.logits, expected.slice(7))).toBeLessThan(1e-2);
  });
});
