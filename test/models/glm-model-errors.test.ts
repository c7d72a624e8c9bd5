import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoglmError,
  GenerationError,
  ModelFormatError,
  ModelLoadError,
  TokenizerError,
  createLogger,
  createTinyGlm,
} from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';

let root: string;
let good: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-errors-'));
  good = path.join(root, 'good');
  await createTinyGlm(good, { family: 'glm', seed: 5, maxPositionEmbeddings: 24 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the good model directory, changed by `edit`. */
async function variant(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, `variant-${counter++}`);
  await cp(good, dir, { recursive: true });
  await edit(dir);
  return dir;
}

async function editJson(file: string, change: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(json);
  await writeFile(file, JSON.stringify(json));
}

async function loadError(dir: string, options: Parameters<typeof GlmModel.load>[1] = {}): Promise<AutoglmError> {
  try {
    const model = await GlmModel.load(dir, options);
    await model.dispose();
  } catch (error) {
    expect(AutoglmError.isInstance(error)).toBe(true);
    return error as AutoglmError;
  }
  throw new Error(`GlmModel.load(${dir}) did not fail`);
}

describe('GlmModel.load errors', () => {
  it('missing directory', async () => {
    const error = await loadError(path.join(root, 'nope'));
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toContain('nope');
  });

  it('missing config.json, onnx file, tokenizer.json, each named', async () => {
    const noConfig = await loadError(await variant((dir) => rm(path.join(dir, 'config.json'))));
    expect(noConfig).toBeInstanceOf(ModelLoadError);
    expect(noConfig.message).toContain('config.json');

    const noGraph = await loadError(await variant((dir) => rm(path.join(dir, 'onnx', 'model.onnx'))));
    expect(noGraph).toBeInstanceOf(ModelLoadError);
    expect(noGraph.message).toContain('model.onnx');

    const noTokenizer = await loadError(await variant((dir) => rm(path.join(dir, 'tokenizer.json'))));
    expect(noTokenizer).toBeInstanceOf(TokenizerError);
    expect(noTokenizer.message).toContain('tokenizer.json');
    expect(noTokenizer.code).toBe('TOKENIZER');
  });

  it('a dtype whose file is absent names the file and the dtypes present', async () => {
    const error = await loadError(good, { dtype: 'q4' });
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toContain('model_q4.onnx');
    expect(error.message).toContain('fp32');
  });

  it('external data: loads weights from model.onnx_data beside the graph; a missing data file is named', async () => {
    const dir = path.join(root, 'external');
    await createTinyGlm(dir, { family: 'glm', seed: 5, externalData: true });
    const model = await GlmModel.load(dir);
    try {
      expect(model.files.externalDataFiles.map((file) => path.basename(file))).toEqual(['model.onnx_data']);
      expect((await model.generate('hi', { maxNewTokens: 2 })).tokenIds).toHaveLength(2);
    } finally {
      await model.dispose();
    }
    await rm(path.join(dir, 'onnx', 'model.onnx_data'));
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toContain('model.onnx');
  });

  it('corrupt ONNX bytes', async () => {
    const dir = await variant(async (d) => {
      const file = path.join(d, 'onnx', 'model.onnx');
      const bytes = await readFile(file);
      await writeFile(file, Buffer.concat([Buffer.from('garbage!'), bytes.subarray(0, 200)]));
    });
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(ModelFormatError);
    expect(error.code).toBe('MODEL_FORMAT');
    expect(error.message).toContain('model.onnx');
  });

  it('config.json: missing field, heads not divisible by kv heads, a glm config relabelled chatglm, invalid JSON', async () => {
    const missing = await loadError(await variant((d) => editJson(path.join(d, 'config.json'), (c) => delete c.num_hidden_layers)));
    expect(missing).toBeInstanceOf(ModelFormatError);
    expect(missing.message).toMatch(/config\.json.*num_hidden_layers/);

    const indivisible = await loadError(await variant((d) => editJson(path.join(d, 'config.json'), (c) => (c.num_key_value_heads = 3))));
    expect(indivisible).toBeInstanceOf(ModelFormatError);
    expect(indivisible.message).toContain('num_key_value_heads');

    const chatglm = await loadError(await variant((d) => editJson(path.join(d, 'config.json'), (c) => (c.model_type = 'chatglm'))));
    expect(chatglm).toBeInstanceOf(ModelFormatError);
    // A glm config.json relabelled chatglm lacks the chatglm keys: named, not guessed.
    expect(chatglm.message).toMatch(/config\.json: missing required field 'ffn_hidden_size' \(model_type chatglm\)/);

    const broken = await loadError(await variant((d) => writeFile(path.join(d, 'config.json'), '{ "model_type": ')));
    expect(broken).toBeInstanceOf(ModelFormatError);
  });

  it('a graph lacking the inputs config.json implies', async () => {
    const dir = await variant((d) =>
      editJson(path.join(d, 'config.json'), (c) => (c.num_hidden_layers = (c.num_hidden_layers as number) + 1)),
    );
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(ModelFormatError);
    expect(error.message).toMatch(/lacks the input 'past_key_values\.\d+\.key'/);
  });

  it('CUDA without the provider: ModelLoadError naming the fix, or a CPU fallback with a warning when asked', async () => {
    const error = await loadError(good, { executionProvider: 'cuda' });
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm install');

    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' });
    const captured = logger.child({});
    captured.warn = ((...args: unknown[]) => {
      lines.push(JSON.stringify(args));
    }) as typeof captured.warn;
    const model = await GlmModel.load(good, { executionProvider: 'cuda', fallback: 'cpu', logger: captured });
    try {
      expect(model.executionProvider).toBe('cpu');
      expect(lines.join('\n')).toMatch(/CUDA requested/);
      expect((await model.generate('hi', { maxNewTokens: 2 })).tokenIds).toHaveLength(2);
    } finally {
      await model.dispose();
    }
  });
});

describe('GlmModel generation errors', () => {
  it('a prompt longer than the context, bad options, bad token ids, use after dispose', async () => {
    const model = await GlmModel.load(good);
    const long = Array.from({ length: 30 }, (_, i) => 10 + i);
    await expect(model.generate(long)).rejects.toThrow(GenerationError);
    await expect(model.generate(long)).rejects.toThrow(/context holds 24/);
    await expect(model.generate('hi', { topP: 2 })).rejects.toThrow(/topP/);
    await expect(model.generate('hi', { maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(model.generate([1, -4])).rejects.toThrow(/index 1/);
    // The context bound limits generation length too.
    const fits = await model.generate(long.slice(0, 20), { maxNewTokens: 50 });
    expect(fits.tokenIds.length).toBeLessThanOrEqual(4);
    await model.dispose();
    await expect(model.generate('hi')).rejects.toThrow(GenerationError);
    expect(() => model.tokenize('hi')).toThrow(/disposed/);
    await model.dispose(); // idempotent
  });
});
