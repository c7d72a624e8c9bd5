import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, ModelLoadError, TokenizerError } from '../../src/errors';
import { parseModelConfig } from '../../src/models/model-config';
import { resolveModelFiles } from '../../src/models/model-files';

const glmEdge = {
  model_type: 'glm',
  vocab_size: 59264,
  hidden_size: 2048,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 4,
  head_dim: 128,
  max_position_embeddings: 8192,
  eos_token_id: [59246, 59253, 59255],
  pad_token_id: 59246,
};

describe('parseModelConfig', () => {
  it('resolves a GLM-Edge config.json and merges generation_config.json', () => {
    const config = parseModelConfig(glmEdge, 'config.json', { eos_token_id: 59246, do_sample: true, temperature: 0.8, top_p: 0.8 });
    expect(config.info).toEqual({
      family: 'glm',
      vocabSize: 59264,
      contextLength: 8192,
      layers: 28,
      heads: 16,
      kvHeads: 4,
      headDim: 128,
      hiddenSize: 2048,
      eosTokenIds: [59246, 59253, 59255],
    });
    expect(config.generationDefaults).toEqual({ temperature: 0.8, topP: 0.8 });
    expect(config.padTokenId).toBe(59246);
  });

  it('derives head_dim and kv heads when absent; glm4 is accepted; greedy without do_sample', () => {
    const { head_dim: _headDim, num_key_value_heads: _kv, ...rest } = glmEdge;
    const config = parseModelConfig({ ...rest, model_type: 'glm4' }, 'config.json', { temperature: 0.7 });
    expect(config.info).toMatchObject({ family: 'glm4', headDim: 128, kvHeads: 16 });
    expect(config.generationDefaults.temperature).toBeUndefined();
  });

  it('refuses missing and inconsistent fields, naming file and field', () => {
    const { vocab_size: _vocab, ...noVocab } = glmEdge;
    expect(() => parseModelConfig(noVocab, 'config.json')).toThrow(/missing required field 'vocab_size'/);
    expect(() => parseModelConfig({ ...glmEdge, model_type: 'llama' }, 'config.json')).toThrow(/model_type/);
    expect(() => parseModelConfig({ ...glmEdge, num_key_value_heads: 5 }, 'config.json')).toThrow(/not divisible/);
    expect(() => parseModelConfig({ ...glmEdge, eos_token_id: 70000 }, 'config.json')).toThrow(/outside vocab_size/);
    const { eos_token_id: _eos, ...noEos } = glmEdge;
    expect(() => parseModelConfig(noEos, 'config.json')).toThrow(/eos_token_id/);
    expect(() => parseModelConfig([], 'config.json')).toThrow(ModelFormatError);
    expect(() => parseModelConfig(glmEdge, 'config.json', { top_k: 'x' }, 'generation_config.json')).toThrow(/generation_config\.json.*top_k/);
  });
});

describe('resolveModelFiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'model-files-'));
    await mkdir(path.join(dir, 'onnx'));
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_q4.onnx', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_1']) {
      await writeFile(path.join(dir, file), '');
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('picks the graph by dtype suffix and finds its external data files', () => {
    const chosen = resolveModelFiles(dir);
    expect(chosen.dtype).toBe('fp16'); // no fp32 graph: the next preferred present one
    expect(chosen.externalDataFiles.map((f) => path.basename(f))).toEqual(['model_fp16.onnx_data', 'model_fp16.onnx_data_1']);
    const q4 = resolveModelFiles(dir, { dtype: 'q4' });
    expect(path.basename(q4.onnxFile)).toBe('model_q4.onnx');
    expect(q4.externalDataFiles).toEqual([]);
    expect(q4.generationConfigFile).toBeUndefined();
  });

  it('names what is missing', async () => {
    expect(() => resolveModelFiles(dir, { dtype: 'fp32' })).toThrow(/model\.onnx.*Available dtypes here: fp16, q4/);
    expect(() => resolveModelFiles(dir, { dtype: 'q5' as never })).toThrow(/Unknown dtype 'q5'/);
    expect(() => resolveModelFiles(path.join(dir, 'absent'))).toThrow(ModelLoadError);
    const bare = await mkdtemp(path.join(os.tmpdir(), 'model-files-bare-'));
    await writeFile(path.join(bare, 'config.json'), '');
    expect(() => resolveModelFiles(bare)).toThrow(TokenizerError);
    await writeFile(path.join(bare, 'tokenizer.json'), '');
    await writeFile(path.join(bare, 'tokenizer_config.json'), '');
    expect(() => resolveModelFiles(bare)).toThrow(/No ONNX graph/);
    await rm(bare, { recursive: true, force: true });
  });
});
