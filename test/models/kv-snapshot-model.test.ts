/**
 * GlmModel.saveState / loadState on real tiny models: a snapshot written after a generation, loaded by a new model
 * instance of the same directory, makes the continuation prefill only what differs, with the tokens of a cold run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvSnapshotError } from '../../src/errors';
import { commonPrefixLength } from '../../src/models/kv-cache';
import { GlmModel, type GlmModelLoadOptions } from '../../src/models/glm-model';
import type { ChatMessage } from '../../src/models/language-model';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import type { TinyGlmOptions } from '../../src/models/tiny/tiny-glm-options';

const shape: TinyGlmOptions = { family: 'glm4', seed: 31, hiddenSize: 128, heads: 4, kvHeads: 2, layers: 2, maxPositionEmbeddings: 512 };
const variants = {
  'Optimum fp32 (worker)': { tiny: {}, load: {} },
  'Optimum fp16 (worker)': { tiny: { dtype: 'fp16' }, load: {} },
  'genai shared buffer (worker)': { tiny: { attention: 'gqa' }, load: {} },
  'Optimum fp32 (main thread)': { tiny: {}, load: { runIn: 'main' } },
} satisfies Record<string, { tiny: Partial<TinyGlmOptions>; load: GlmModelLoadOptions }>;

const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three prime numbers, please.' },
];
const greedy = { maxNewTokens: 10, temperature: 0 };

let root: string;
const directories = new Map<string, string>();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kv-snapshot-model-'));
  for (const [name, variant] of Object.entries(variants)) {
    const key = JSON.stringify(variant.tiny);
    if (!directories.has(key)) {
      const directory = path.join(root, `model-${directories.size}`);
      await createTinyGlm(directory, { ...shape, ...variant.tiny });
      directories.set(key, directory);
    }
    directories.set(name, directories.get(key)!);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('GlmModel.saveState / loadState', () => {
  for (const [name, variant] of Object.entries(variants)) {
    it(`${name}: a new model instance continues from the snapshot, prefilling only what differs, with a cold run's tokens`, async () => {
      const directory = directories.get(name)!;
      const file = path.join(root, `${name.replace(/\W+/g, '-')}.kvs`);
      const first = await GlmModel.load(directory, variant.load);
      const promptIds = first.promptTokenIds(conversation);
      const answer = await first.generate(conversation, greedy);
      const saved = await first.saveState(file);
      // The cache holds the prompt and every generated token but the last (never fed back).
      const snapshotIds = [...promptIds, ...answer.tokenIds].slice(0, saved.tokens);
      expect(saved.tokens).toBe(promptIds.length + answer.tokenIds.length - 1);
      // The continuation differs from the snapshot in its last two positions (a regenerated ending), then goes on.
      const next = [...snapshotIds.slice(0, -2), ...first.tokenizer.encode(' And two more?')];
      await first.dispose();

      const warm = await GlmModel.load(directory, variant.load);
      const cold = await GlmModel.load(directory, variant.load);
      try {
        const loaded = await warm.loadState(file);
        expect(loaded).toEqual({ file, tokens: saved.tokens, bytes: saved.bytes });
        const expectedCached = commonPrefixLength(snapshotIds, next);
        expect(expectedCached).toBeGreaterThanOrEqual(saved.tokens - 2);
        expect(expectedCached).toBeGreaterThan(promptIds.length); // the snapshot covers more than the first prompt
        const warmResult = await warm.generate(next, greedy);
        const coldResult = await cold.generate(next, greedy);
        expect(warmResult.usage.cachedTokens).toBe(expectedCached);
        expect(warmResult.usage.prefillTokens).toBe(next.length - expectedCached);
        expect(coldResult.usage.cachedTokens).toBe(0);
        expect(warmResult.tokenIds).toEqual(coldResult.tokenIds);
      } finally {
        await warm.dispose();
        await cold.dispose();
      }
    });
  }

  it('waits for a running generation: the snapshot holds its whole sequence, never a state in between', async () => {
    const model = await GlmModel.load(directories.get('Optimum fp32 (worker)')!);
    try {
      const promptIds = model.promptTokenIds(conversation);
      const stream = model.stream(conversation, { ...greedy, maxNewTokens: 6 });
      expect((await stream.next()).value).toMatchObject({ type: 'token' }); // the generation holds the model now
      let settled = false;
      const saving = model.saveState(path.join(root, 'while-running.kvs')).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(settled).toBe(false);
      let end: { tokenIds: number[] } | undefined;
      for await (const event of stream) if (event.type === 'end') end = event;
      const saved = await saving;
      expect(saved.tokens).toBe(promptIds.length + end!.tokenIds.length - 1);
    } finally {
      await model.dispose();
    }
  });

  it('saves a prefix with tokenIds, refuses another model, an empty cache and unknown options', async () => {
    const optimum = directories.get('Optimum fp32 (worker)')!;
    const other = directories.get('genai shared buffer (worker)')!;
    const model = await GlmModel.load(optimum);
    const foreign = await GlmModel.load(other);
    try {
      const file = path.join(root, 'prefix.kvs');
      await expect(model.saveState(file)).rejects.toMatchObject({ code: 'KV_SNAPSHOT', details: { reason: 'empty' } });
      const promptIds = model.promptTokenIds(conversation);
      const generated = await model.generate(conversation, { ...greedy, maxNewTokens: 3 });
      // A conversation's ids plus a token the cache does not hold after them: only the common part is saved.
      const differing = (generated.tokenIds[0]! + 1) % model.info.vocabSize;
      const saved = await model.saveState(file, { tokenIds: [...promptIds, differing], meta: { step: 'a' } });
      expect(saved.tokens).toBe(promptIds.length);
      await expect(model.saveState(file, { tokenIds: [], ids: [] } as never)).rejects.toThrow(/unknown option ids; the options are tokenIds and meta/);
      const error = await foreign.loadState(file).catch((caught: unknown) => caught);
      expect(KvSnapshotError.isInstance(error)).toBe(true);
      expect((error as KvSnapshotError).details.reason).toBe('model');
      expect((error as Error).message).toMatch(/was saved from model .*Load it into the model that saved it, or delete it/);
      // The refused load left the foreign model working from a cold cache.
      expect((await foreign.generate(conversation, { ...greedy, maxNewTokens: 2 })).usage.cachedTokens).toBe(0);
      // The same prompt again on a model that loaded the prefix: all but the last prompt token come from the file.
      await model.loadState(file);
      expect((await model.generate(conversation, { ...greedy, maxNewTokens: 2 })).usage.cachedTokens).toBe(promptIds.length - 1);
    } finally {
      await model.dispose();
      await foreign.dispose();
    }
    await expect(model.saveState(path.join(root, 'late.kvs'))).rejects.toThrow(/disposed/);
  });
});
