import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors';
import { createTinyGlm, type TinyGlmInfo } from '../../src/index';
import { describeChatFormat } from '../../src/models/chat-format/chat-format';
import { GlmModel } from '../../src/models/glm-model';
import { parseModelConfig } from '../../src/models/model-config';
import { loadReferenceModel, referenceForward } from '../support/reference-forward';
import { sharedBufferStepper } from '../support/shared-buffer-stepper';

// createTinyGlm({ family: 'chatglm' }): ChatGLM3 / GLM-4-9B-chat as onnxruntime-genai's model builder exports them
// (builders/chatglm.py: rotary_embedding_dim = head_size / 2, interleaved; GroupQueryAttention with packed q/k/v).
let root: string;
let info: TinyGlmInfo;
let session: ort.InferenceSession;
let reference: ReturnType<typeof loadReferenceModel>;
const maxLength = 48;
const prompt = [701, 703, 706, 409, 13, 120, 45, 7, 300, 99, 250, 18];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-chatglm-'));
  info = await createTinyGlm(path.join(root, 'model'), { family: 'chatglm', seed: 3, maxPositionEmbeddings: maxLength });
  session = await ort.InferenceSession.create(info.modelPath);
  reference = loadReferenceModel(info.directory, 'model.onnx');
});
afterAll(async () => {
  await session?.release();
  await rm(root, { recursive: true, force: true });
});

function maxAbsDiff(actual: Float32Array, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

describe("createTinyGlm({ family: 'chatglm' })", () => {
  it('writes the genai layout with ChatGLM3 config keys and its SentencePiece tokenizer beside the conversion', async () => {
    expect(info.files).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'genai_config.json', 'model.onnx']);
    const config = JSON.parse(await readFile(path.join(info.directory, 'config.json'), 'utf8'));
    // The same keys as THUDM/chatglm3-6b's config.json.
    const real = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/chatglm/chatglm3-6b.config.json'), 'utf8'));
    expect(Object.keys(config).filter((key) => !(key in real))).toEqual(['rope_ratio']);
    expect(config).toMatchObject({ model_type: 'chatglm', multi_query_group_num: 2, kv_channels: 32, add_qkv_bias: true, padded_vocab_size: 768, eos_token_id: 2, pad_token_id: 0 });
    expect(parseModelConfig(config, 'config.json').info).toMatchObject({ family: 'chatglm', kvHeads: 2, headDim: 32, vocabSize: 768 });
    const genai = JSON.parse(await readFile(path.join(info.directory, 'genai_config.json'), 'utf8'));
    expect(genai.model).toMatchObject({ type: 'chatglm', bos_token_id: 1, eos_token_id: 2, pad_token_id: 0, context_length: maxLength });
    expect(genai.model.decoder.inputs.position_ids).toBeUndefined();
    expect(genai.search.past_present_share_buffer).toBe(true);
    const tokenizerConfig = JSON.parse(await readFile(path.join(info.directory, 'tokenizer_config.json'), 'utf8'));
    expect(tokenizerConfig.autoglm_converted_from).toEqual({ tokenizer_class: 'ChatGLMTokenizer', file: 'tokenizer.model', format: 'sentencepiece' });
    expect(info.specialTokens).toMatchObject({ '[gMASK]': 701, '<sop>': 703, '<|user|>': 706, '<|assistant|>': 707, '<|observation|>': 708, '<|endoftext|>': 2 });
    expect(info.eosTokenIds).toEqual([2, 706, 708]);
  });

  it('packs q/k/v into one projection feeding GroupQueryAttention (key and value inputs empty), rotary on half of each head', () => {
    expect(reference.weights.get('model.layers.0.self_attn.qkv_proj.weight')?.length).toBe((4 + 2 * 2) * 32 * 128);
    expect(reference.weights.get('model.layers.0.self_attn.qkv_proj.bias')?.length).toBe((4 + 2 * 2) * 32);
    expect(reference.config).toMatchObject({ modelType: 'chatglm', partialRotaryFactor: 0.5, kvHeads: 2, attentionBias: true, tieWordEmbeddings: false });
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value', 'num_logits_to_keep']);
  });

  it('matches the reference forward (< 1e-4) through prefill and decode on the shared max-length buffer', async () => {
    const { kvHeads, headDim, vocab } = info.options;
    const { buffers, step } = sharedBufferStepper(session, info.options, maxLength);
    const expected = referenceForward(reference, { inputIds: [prompt] });
    const prefill = await step(prompt.slice(0, 8), 8, 0);
    expect(prefill.logits.dims).toEqual([1, 8, vocab]);
    expect(maxAbsDiff(prefill.logits.data as Float32Array, expected.logits[0].slice(0, 8).flatMap((row) => Array.from(row)))).toBeLessThan(1e-4);
    for (let position = 8; position < prompt.length; position++) {
      const out = await step([prompt[position]], position + 1, 1);
      expect(maxAbsDiff(out.logits.data as Float32Array, expected.logits[0][position]), `position ${position}`).toBeLessThan(1e-4);
    }
    // The cache holds keys rotated in ChatGLM's layout: the reference's, position by position.
    const key = buffers['1.key'].data as Float32Array;
    for (let h = 0; h < kvHeads; h++) {
      const rows = expected.present.keys[1][0][h].flat();
      expect(maxAbsDiff(key.subarray(h * maxLength * headDim, h * maxLength * headDim + rows.length), rows)).toBeLessThan(1e-4);
    }
  });

  it('a rotary over the whole head (GLM-Edge style) would not match: the test tells the layouts apart', () => {
    const full = referenceForward({ ...reference, config: { ...reference.config, partialRotaryFactor: 1 } }, { inputIds: [prompt.slice(0, 6)] });
    const half = referenceForward(reference, { inputIds: [prompt.slice(0, 6)] });
    expect(maxAbsDiff(Float32Array.from(full.logits[0][5]), half.logits[0][5])).toBeGreaterThan(1e-3);
  });

  it('refuses options no ChatGLM export has', async () => {
    for (const [options, field] of [
      [{ partialRotaryFactor: 1 }, 'partialRotaryFactor'],
      [{ attention: 'standard' }, 'attention'],
      [{ tieWordEmbeddings: true }, 'tieWordEmbeddings'],
    ] as const) {
      await expect(createTinyGlm(path.join(root, 'bad'), { family: 'chatglm', ...options })).rejects.toMatchObject({ code: 'MODEL_FORMAT', details: { field } });
    }
    await expect(createTinyGlm(path.join(root, 'bad'), { family: 'chatglm', attention: 'standard' })).rejects.toBeInstanceOf(ModelFormatError);
  });
});

describe('GlmModel on a tiny chatglm directory', () => {
  let model: GlmModel;
  beforeAll(async () => {
    model = await GlmModel.load(info.directory);
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it("loads with info.family 'chatglm' and the ChatGLM3 tokenizer", () => {
    expect(model.info).toMatchObject({ family: 'chatglm', kvHeads: 2, headDim: 32, layers: 2, vocabSize: 768, contextLength: maxLength });
    expect(model.info.eosTokenIds).toEqual([2, 706, 708]);
    expect(model.tokenize('\n')).toEqual([409, 13]);
    expect(describeChatFormat(model.chatFormat!)).toContain('call: name\\n```python tool_call(k=v, ...)```');
  });

  it('generates reproducibly from token ids and from a raw prompt (same seed, same ids)', async () => {
    const sample = { maxNewTokens: 12, temperature: 0.9, topK: 40, seed: 11 };
    const first = await model.generate(prompt, sample);
    const second = await model.generate(prompt, sample);
    expect(first.tokenIds.length).toBeGreaterThan(0);
    expect(second.tokenIds).toEqual(first.tokenIds);
    expect(first.usage.promptTokens).toBe(prompt.length);
    const greedy = await model.generate('The quarterly report', { maxNewTokens: 8 });
    expect((await model.generate('The quarterly report', { maxNewTokens: 8 })).tokenIds).toEqual(greedy.tokenIds);
    expect(greedy.text).toBe(model.tokenizer.decode(greedy.tokenIds));
  });
});
