import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationError, ModelFormatError, ModelLoadError, createTinyGlm, type TinyGlmOptions } from '../../src/index';
import { CausalLmGraph } from '../../src/models/causal-lm-graph';
import { GlmModel } from '../../src/models/glm-model';
import type { ChatMessage } from '../../src/models/language-model';
import { parseModelConfig } from '../../src/models/model-config';
import { resolveModelFiles } from '../../src/models/model-files';
import { OnnxBackend } from '../../src/models/onnx-backend';
import { silentLogger } from '../../src/observability/logger';
import { WorkerGraph } from '../../src/models/worker-graph';

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shape: TinyGlmOptions = { family: 'glm4', seed: 31, hiddenSize: 128, heads: 4, kvHeads: 2, maxPositionEmbeddings: 512 };
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three prime numbers, please.' },
];

let root: string;
const directories: Record<'optimum' | 'gqa', string> = { optimum: '', gqa: '' };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-worker-'));
  directories.optimum = path.join(root, 'optimum');
  directories.gqa = path.join(root, 'gqa');
  await createTinyGlm(directories.optimum, shape);
  await createTinyGlm(directories.gqa, { ...shape, attention: 'gqa' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function readConfig(directory: string) {
  const files = resolveModelFiles(directory);
  const config = parseModelConfig(JSON.parse(readFileSync(files.configFile, 'utf8')), files.configFile);
  return { files, config };
}

describe.each(['optimum', 'gqa'] as const)("GlmModel runIn 'worker' vs 'main' (%s layout)", (layout) => {
  it('same greedy tokens, same seeded samples, same prefix-cache reuse', async () => {
    const worker = await GlmModel.load(directories[layout]);
    const main = await GlmModel.load(directories[layout], { runIn: 'main' });
    try {
      for (const model of [worker, main]) expect(model.executionProvider).toBe('cpu');
      const run = async (model: GlmModel) => {
        const greedy = await model.generate(conversation, { maxNewTokens: 12, temperature: 0 });
        // Sampling reads the whole distribution: equal draws mean equal logits, not only an equal argmax.
        const sampled = await model.generate(conversation, { maxNewTokens: 12, temperature: 0.9, topP: 0.95, seed: 7 });
        const followUp: ChatMessage[] = [...conversation, { role: 'assistant', content: greedy.text }, { role: 'user', content: 'And two more?' }];
        const warm = await model.generate(followUp, { maxNewTokens: 8, temperature: 0 });
        const cold = await model.generate(followUp, { maxNewTokens: 8, temperature: 0, prefixCache: false });
        return { greedy, sampled, warm, cold };
      };
      const fromWorker = await run(worker);
      const fromMain = await run(main);
      expect(fromWorker.greedy.tokenIds).toHaveLength(12);
      expect(fromWorker.greedy.tokenIds).toEqual(fromMain.greedy.tokenIds);
      expect(fromWorker.sampled.tokenIds).toEqual(fromMain.sampled.tokenIds);
      expect(fromWorker.sampled.tokenIds).not.toEqual(fromWorker.greedy.tokenIds);
      expect(fromWorker.warm.tokenIds).toEqual(fromMain.warm.tokenIds);
      expect(fromWorker.warm.tokenIds).toEqual(fromWorker.cold.tokenIds);
      expect(fromWorker.warm.usage.cachedTokens).toBeGreaterThan(0);
      expect(fromWorker.warm.usage.cachedTokens).toBe(fromMain.warm.usage.cachedTokens);
      expect(fromWorker.cold.usage.cachedTokens).toBe(0);
    } finally {
      await worker.dispose();
      await main.dispose();
    }
  });
});

describe('WorkerGraph', () => {
  it('returns the logits CausalLmGraph returns, for the last position and all positions, across truncations', async () => {
    const { files, config } = readConfig(directories.optimum);
    const local = new CausalLmGraph(await OnnxBackend.load(files.onnxFile), config.info);
    const remote = await WorkerGraph.load({ onnxFile: files.onnxFile, info: config.info, backend: {}, graph: {}, logger: silentLogger() });
    try {
      const localCache = local.createCache();
      const remoteCache = remote.createCache();
      const prompt = [5, 9, 14, 20, 33, 47];
      const all = await remote.forward(prompt, remoteCache, { allPositions: true });
      expect(all).toEqual(await local.forward(prompt, localCache, { allPositions: true }));
      expect(all).toHaveLength(prompt.length * config.info.vocabSize);
      expect(remoteCache.tokenIds).toEqual(prompt);
      localCache.truncate(3);
      remoteCache.truncate(3);
      expect(remoteCache.length).toBe(3);
      const expected = Array.from(await local.forward([60, 61], localCache));
      expect(Array.from(await remote.forward([60, 61], remoteCache))).toEqual(expected);
      expect(remoteCache.tokenIds).toEqual([5, 9, 14, 60, 61]);
      localCache.clear();
      remoteCache.clear();
      const fresh = Array.from(await local.forward([7], localCache));
      expect(Array.from(await remote.forward([7], remoteCache))).toEqual(fresh);
    } finally {
      await local.backend.dispose();
      await remote.dispose();
    }
    await expect(remote.forward([1], remote.createCache())).rejects.toThrow(GenerationError);
  });

  it('a run error in the worker arrives as the typed error, and the next request starts cold', async () => {
    const { files, config } = readConfig(directories.gqa);
    const genai = files.genai!;
    const remote = await WorkerGraph.load({
      onnxFile: files.onnxFile,
      info: config.info,
      backend: {},
      graph: { names: genai.names, sharedBuffer: { maxLength: 16 } },
      logger: silentLogger(),
    });
    try {
      const cache = remote.createCache();
      await remote.forward([1, 2, 3], cache);
      const error = await remote.forward(Array.from({ length: 20 }, (_, i) => i + 1), cache).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GenerationError);
      expect((error as GenerationError).code).toBe('GENERATION');
      expect((error as GenerationError).message).toMatch(/needs 23 positions, the shared KV buffer holds at most 16/);
      expect((error as GenerationError).details).toEqual({ needed: 23, maxLength: 16 });
      cache.clear(); // as the generation loop does after a failed step
      expect(await remote.forward([4], cache)).toHaveLength(config.info.vocabSize);
      expect(cache.tokenIds).toEqual([4]);
    } finally {
      await remote.dispose();
    }
  });
});

describe('GlmModel in a worker thread', () => {
  it('load errors cross the thread as ModelFormatError / ModelLoadError with their codes', async () => {
    const corrupt = path.join(root, 'corrupt');
    await createTinyGlm(corrupt, shape);
    await writeFile(path.join(corrupt, 'onnx', 'model.onnx'), Buffer.from('not an onnx graph at all'));
    const format = await GlmModel.load(corrupt).catch((caught: unknown) => caught);
    expect(format).toBeInstanceOf(ModelFormatError);
    expect((format as ModelFormatError).code).toBe('MODEL_FORMAT');
    expect((format as ModelFormatError).details.file).toBe(path.join(corrupt, 'onnx', 'model.onnx'));
    const cuda = await GlmModel.load(directories.optimum, { executionProvider: 'cuda' }).catch((caught: unknown) => caught);
    expect(cuda).toBeInstanceOf(ModelLoadError);
    expect((cuda as ModelLoadError).code).toBe('MODEL_LOAD');
    expect((cuda as ModelLoadError).message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm install');
    await expect(GlmModel.load(directories.optimum, { runIn: 'elsewhere' as 'main' })).rejects.toThrow(/runIn must be 'worker' or 'main'/);
  });

  it('keeps the event loop turning during a long prefill', async () => {
    const directory = path.join(root, 'long');
    await createTinyGlm(directory, { family: 'glm4', seed: 31, hiddenSize: 384, layers: 4, heads: 6, kvHeads: 2, maxPositionEmbeddings: 1024 });
    const model = await GlmModel.load(directory, { prefillChunkSize: 1024, threads: 1 });
    try {
      const prompt = Array.from({ length: 600 }, (_, i) => 10 + ((i * 7) % 300));
      const ticks: number[] = [];
      const timer = setInterval(() => ticks.push(performance.now()), 1);
      let calledAt: number;
      let result: Awaited<ReturnType<GlmModel['generate']>>;
      try {
        calledAt = performance.now();
        result = await model.generate(prompt, { maxNewTokens: 1, temperature: 0 });
      } finally {
        clearInterval(timer);
      }
      expect(result.usage.prefillTokens).toBe(600);
      // The prefill is one session.run of 600 tokens. On the calling thread ('main') no timer can fire inside that
      // run (measured: 0 ticks in its middle half, every time); with the worker the loop keeps turning through it.
      const { prefillMs, timeToFirstTokenMs } = result.timings;
      const prefillStart = calledAt + timeToFirstTokenMs - prefillMs;
      const inside = ticks.filter((at) => at > prefillStart + prefillMs / 4 && at < prefillStart + (3 * prefillMs) / 4);
      expect(inside.length).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });

  it('dispose ends the worker; a loaded but undisposed model does not keep a process alive', async () => {
    const { files, config } = readConfig(directories.optimum);
    const graph = await WorkerGraph.load({ onnxFile: files.onnxFile, info: config.info, backend: {}, graph: {}, logger: silentLogger() });
    await graph.dispose();
    expect(await graph.exited).toBe(1);

    const script = path.join(root, 'undisposed.mts');
    const source = pathToImport(path.join(repository, 'src', 'models', 'glm-model.ts'));
    await writeFile(
      script,
      `import { GlmModel } from ${JSON.stringify(source)};\n` +
        `const model = await GlmModel.load(${JSON.stringify(directories.optimum)});\n` +
        `const result = await model.generate('hello', { maxNewTokens: 3, temperature: 0 });\n` +
        `console.log('generated', result.tokenIds.length);\n`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repository, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('generated 3');
  });
});

function pathToImport(file: string): string {
  return new URL(`file://${file}`).href;
}
