import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { GenerateResult } from '../../src/models/language-model';
import { ABORTABLE_PREFILL_CHUNK_SIZE } from '../../src/models/generation/run-generation';

// Issue 18 item 7: an abort cuts a prefill short within one chunk, and an aborted request never waits in the queue.
// One KV slot (`sequences: 1`): these tests read what the one cache kept, and queue requests behind a running one.
const PROMPT_TOKENS = 8_100;
let root: string;
let directory: string;
let prompt: number[];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'abort-prefill-'));
  directory = path.join(root, 'model');
  const tiny = await createTinyGlm(directory, { hiddenSize: 128, layers: 2, maxPositionEmbeddings: 8_192, seed: 5 });
  const special = new Set(Object.values(tiny.specialTokens));
  const plain = Array.from({ length: tiny.tokenizerSize }, (_, id) => id).filter((id) => !special.has(id));
  prompt = Array.from({ length: PROMPT_TOKENS }, (_, index) => plain[(index * 7) % plain.length]!);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Aborts a cold 8,100-token prefill once it has run `afterMs`; returns the result and how many prompt tokens the
 * cache kept (counted up to 1,024: more means the abort did not cut the prefill short).
 */
async function abortedPrefill(model: GlmModel, afterMs: number): Promise<{ aborted: GenerateResult; ranTokens: number; settleMs: number }> {
  const controller = new AbortController();
  const started = performance.now();
  setTimeout(() => controller.abort(), afterMs);
  const aborted = await model.generate(prompt, { maxNewTokens: 4, signal: controller.signal });
  const settleMs = performance.now() - started;
  // The next request reuses what the aborted prefill left in the cache: whole chunks of the prompt, no more.
  const next = await model.generate(prompt.slice(0, 1_025), { maxNewTokens: 1 });
  return { aborted, ranTokens: next.usage.cachedTokens, settleMs };
}

describe.each(['worker', 'main'] as const)('abort during prefill (runIn %s)', (runIn) => {
  it('settles within one chunk: the cache holds whole chunks, far fewer than the prompt', async () => {
    const model = await GlmModel.load(directory, { runIn, threads: 1, sequences: 1 });
    try {
      // The time of one 256-token chunk at the start of the prompt: the abort comes before the first one ends.
      const chunk = performance.now();
      await model.generate(prompt.slice(0, 256), { maxNewTokens: 1, prefixCache: false });
      const chunkMs = performance.now() - chunk;
      await model.generate([prompt[1]!, prompt[0]!], { maxNewTokens: 1 }); // empties the cache's prefix

      const { aborted, ranTokens, settleMs } = await abortedPrefill(model, Math.min(100, chunkMs / 2));
      expect(aborted).toMatchObject({ finishReason: 'abort', tokenIds: [], text: '' });
      expect(ranTokens % 256).toBe(0);
      expect(ranTokens).toBeGreaterThan(0);
      expect(ranTokens).toBeLessThan(1_024);
      // Generous: the 31 chunks of the whole prompt take far longer than the few an abort waits for.
      expect(settleMs).toBeLessThan(chunkMs * 16);
    } finally {
      await model.dispose();
    }
  });

  it(`a prefillChunkSize above ${ABORTABLE_PREFILL_CHUNK_SIZE} is split when the request can abort`, async () => {
    const model = await GlmModel.load(directory, { runIn, threads: 1, prefillChunkSize: 8_192, sequences: 1 });
    try {
      // The abort comes halfway through the first 512-token chunk (timed on this machine, not a fixed delay).
      const chunk = performance.now();
      await model.generate(prompt.slice(0, ABORTABLE_PREFILL_CHUNK_SIZE), { maxNewTokens: 1, prefixCache: false });
      const chunkMs = performance.now() - chunk;
      await model.generate([prompt[1]!, prompt[0]!], { maxNewTokens: 1 }); // empties the cache's prefix
      const { aborted, ranTokens } = await abortedPrefill(model, chunkMs / 2);
      expect(aborted.finishReason).toBe('abort');
      expect(ranTokens % ABORTABLE_PREFILL_CHUNK_SIZE).toBe(0);
      expect(ranTokens).toBeLessThan(1_024);
      // Without a signal the user's chunk holds: the prompt runs in one forward, with the same tokens.
      const long = prompt.slice(0, 3 * ABORTABLE_PREFILL_CHUNK_SIZE + 7);
      const whole = await model.generate(long, { maxNewTokens: 4, prefixCache: false });
      const split = await model.generate(long, { maxNewTokens: 4, prefixCache: false, signal: new AbortController().signal });
      expect(split.tokenIds).toEqual(whole.tokenIds);
    } finally {
      await model.dispose();
    }
  });

  it('10 queued requests aborted at 50 ms settle before the running one ends', async () => {
    const model = await GlmModel.load(directory, { runIn, threads: 1, sequences: 1 });
    try {
      const order: string[] = [];
      const running = model.generate(prompt.slice(0, 2_048), { maxNewTokens: 8, prefixCache: false }).then((result) => {
        order.push('running');
        return result;
      });
      const controller = new AbortController();
      const queued = Array.from({ length: 10 }, (_, index) =>
        model.generate(prompt.slice(index), { maxNewTokens: 8, signal: controller.signal }).then((result) => {
          order.push(`queued ${index}`);
          return result;
        }),
      );
      setTimeout(() => controller.abort(), 50);
      const results = await Promise.all(queued);
      expect(order).not.toContain('running');
      for (const [index, result] of results.entries()) {
        expect(result).toMatchObject({ finishReason: 'abort', tokenIds: [], usage: { promptTokens: PROMPT_TOKENS - index, prefillTokens: 0 } });
      }
      expect((await running).finishReason).not.toBe('abort');
      expect(order.at(-1)).toBe('running');
      // The queue still works after its waiters left.
      expect((await model.generate(prompt.slice(0, 16), { maxNewTokens: 2 })).tokenIds).toHaveLength(2);
    } finally {
      await model.dispose();
    }
  });
});
