/**
 * Continuous batching on GlmModel (issue 15): concurrent generations share one graph run per decode step and give
 * the tokens each gives alone, on the growing past (Optimum) and the shared buffer (GroupQueryAttention), in the
 * worker thread and on the main thread; per-sequence grammars, stop strings and aborts; the slot pool.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTinyGlm, type TinyGlmOptions } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { GenerateOptions, GenerateResult } from '../../src/models/language-model';

const shape: TinyGlmOptions = { family: 'glm4', seed: 41, hiddenSize: 128, heads: 4, kvHeads: 2, layers: 2, maxPositionEmbeddings: 256 };
let root: string;
const directories: Record<'optimum' | 'gqa', string> = { optimum: '', gqa: '' };
let plain: number[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-batching-'));
  directories.optimum = path.join(root, 'optimum');
  directories.gqa = path.join(root, 'gqa');
  const tiny = await createTinyGlm(directories.optimum, shape);
  await createTinyGlm(directories.gqa, { ...shape, attention: 'gqa' });
  const special = new Set(Object.values(tiny.specialTokens));
  plain = Array.from({ length: tiny.tokenizerSize }, (_, id) => id).filter((id) => !special.has(id));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Distinct prompts of different lengths (plain token ids). */
function prompts(count: number, offset = 0): number[][] {
  return Array.from({ length: count }, (_, index) =>
    Array.from({ length: 6 + 5 * index }, (_, position) => plain[(position * 7 + index * 13 + offset) % plain.length]!),
  );
}

async function serial(model: GlmModel, inputs: number[][], options: (index: number) => GenerateOptions): Promise<GenerateResult[]> {
  const results: GenerateResult[] = [];
  for (const [index, ids] of inputs.entries()) results.push(await model.generate(ids, options(index)));
  return results;
}

describe.each([
  ['optimum', 'worker'],
  ['optimum', 'main'],
  ['gqa', 'worker'],
  ['gqa', 'main'],
] as const)('GlmModel batching (%s layout, runIn %s)', (layout, runIn) => {
  it('8 concurrent greedy requests of 48 tokens give the tokens of the same 8 run one after another', async () => {
    const model = await GlmModel.load(directories[layout], { runIn, sequences: 8 });
    try {
      expect(model.sequences).toBe(8);
      const inputs = prompts(8);
      const options = (_index: number) => ({ maxNewTokens: 48, temperature: 0, prefixCache: false });
      const alone = await serial(model, inputs, options);
      const before = model.batchStats;
      const together = await Promise.all(inputs.map((ids, index) => model.generate(ids, options(index))));
      const after = model.batchStats;
      for (const [index, result] of together.entries()) {
        expect(result.tokenIds, `request ${index}`).toEqual(alone[index]!.tokenIds);
        expect(result.text).toBe(alone[index]!.text);
        expect(result.finishReason).toBe(alone[index]!.finishReason);
      }
      expect(alone.reduce((sum, result) => sum + result.tokenIds.length, 0)).toBeGreaterThan(8 * 20);
      // They did run together: far fewer steps than sequence-tokens; as many rows in the widest step as requests
      // still running after their first token.
      expect(after.largestBatch).toBe(alone.filter((result) => result.tokenIds.length > 1).length);
      const rows = after.rows - before.rows;
      expect((after.steps - before.steps) / rows).toBeLessThan(0.3);
    } finally {
      await model.dispose();
    }
  });

  it('seeded sampling: 6 concurrent requests draw what each draws alone', async () => {
    const model = await GlmModel.load(directories[layout], { runIn, sequences: 6 });
    try {
      const inputs = prompts(6, 3);
      const options = (index: number) => ({ maxNewTokens: 24, temperature: 0.9, topP: 0.95, seed: 100 + index, prefixCache: false });
      const alone = await serial(model, inputs, options);
      const together = await Promise.all(inputs.map((ids, index) => model.generate(ids, options(index))));
      together.forEach((result, index) => expect(result.tokenIds, `request ${index}`).toEqual(alone[index]!.tokenIds));
    } finally {
      await model.dispose();
    }
  });
});

describe('GlmModel batching: per-sequence policies', () => {
  it('grammars (schema) and stop strings stay per sequence', async () => {
    const model = await GlmModel.load(directories.optimum, { sequences: 6 });
    try {
      const schema = z.object({ color: z.enum(['red', 'green', 'blue']), ok: z.boolean() });
      const inputs = prompts(6, 11);
      const plainAlone = await serial(model, inputs.slice(3), () => ({ maxNewTokens: 40, temperature: 0, prefixCache: false }));
      // A stop string per plain request: a piece of what it generates alone, so that it stops early.
      const stops = plainAlone.map((result) => result.text.slice(Math.floor(result.text.length / 2), Math.floor(result.text.length / 2) + 2));
      const options = (index: number): GenerateOptions =>
        index < 3
          ? { schema, temperature: 1, seed: index, maxNewTokens: 60, prefixCache: false }
          : { maxNewTokens: 40, temperature: 0, stop: [stops[index - 3]!], prefixCache: false };
      const alone = await serial(model, inputs, options);
      const together = await Promise.all(inputs.map((ids, index) => model.generate(ids, options(index))));
      together.forEach((result, index) => {
        expect(result.tokenIds, `request ${index}`).toEqual(alone[index]!.tokenIds);
        expect(result.text).toBe(alone[index]!.text);
      });
      for (const result of together.slice(0, 3)) expect(schema.safeParse(JSON.parse(result.text)).success).toBe(true);
      for (const [index, result] of together.slice(3).entries()) {
        if (stops[index]!.length === 2) expect(result.tokenIds.length).toBeLessThan(plainAlone[index]!.tokenIds.length);
        expect(result.text).not.toContain(stops[index]);
      }
      expect(model.batchStats.largestBatch).toBeGreaterThanOrEqual(4);
    } finally {
      await model.dispose();
    }
  });

  it('jump-forward and draft-verification forwards run alone between batched steps, with the same tokens', async () => {
    const model = await GlmModel.load(directories.gqa, { sequences: 4 });
    try {
      const schema = z.object({ color: z.enum(['red', 'green', 'blue']), ok: z.boolean() });
      const inputs = prompts(4, 21).map((ids) => [...ids, ...ids]);
      const options = (index: number): GenerateOptions =>
        index % 2 === 0
          ? { schema, temperature: 0, maxNewTokens: 40, prefixCache: false }
          : { temperature: 0, maxNewTokens: 40, prefixCache: false, draft: { kind: 'prompt-lookup', maxTokens: 4 } };
      const alone = await serial(model, inputs, options);
      const together = await Promise.all(inputs.map((ids, index) => model.generate(ids, options(index))));
      together.forEach((result, index) => expect(result.tokenIds, `request ${index}`).toEqual(alone[index]!.tokenIds));
      expect(alone[0]!.usage.decoding?.forcedTokens).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });

  it.each(['worker', 'main'] as const)('sequences aborted mid-batch end as aborts while the others continue (runIn %s)', async (runIn) => {
    const model = await GlmModel.load(directories.gqa, { runIn, sequences: 6 });
    try {
      const inputs = prompts(6, 5);
      const options = { maxNewTokens: 40, temperature: 0, prefixCache: false } as const;
      const alone = await serial(model, inputs, () => options);
      const abortAt = [5, undefined, 12, undefined, 1, undefined];
      const together = await Promise.all(
        inputs.map(async (ids, index) => {
          const controller = new AbortController();
          const tokens: number[] = [];
          let end: GenerateResult | undefined;
          for await (const event of model.stream(ids, { ...options, signal: controller.signal })) {
            if (event.type === 'token') {
              tokens.push(event.id);
              if (tokens.length === abortAt[index]) controller.abort();
            } else end = event;
          }
          return { tokens, end: end! };
        }),
      );
      together.forEach(({ tokens, end }, index) => {
        const expected = alone[index]!.tokenIds;
        if (abortAt[index] === undefined || expected.length <= abortAt[index]!) {
          expect(tokens, `request ${index}`).toEqual(expected);
          expect(end.finishReason).toBe(alone[index]!.finishReason);
        } else {
          expect(end.finishReason, `request ${index}`).toBe('abort');
          expect(tokens).toEqual(expected.slice(0, abortAt[index]));
        }
      });
      // The slots are free again and the model still batches.
      const again = await Promise.all(inputs.slice(0, 3).map((ids) => model.generate(ids, options)));
      again.forEach((result, index) => expect(result.tokenIds).toEqual(alone[index]!.tokenIds));
    } finally {
      await model.dispose();
    }
  });

  it('a stream whose consumer stops reading does not hold the others back', async () => {
    const model = await GlmModel.load(directories.optimum, { sequences: 4 });
    try {
      const inputs = prompts(4, 9);
      const options = { maxNewTokens: 30, temperature: 0, prefixCache: false } as const;
      const alone = await serial(model, inputs, () => options);
      const held = model.stream(inputs[0]!, options);
      const first = (await held.next()).value;
      expect(first).toMatchObject({ type: 'token', id: alone[0]!.tokenIds[0] });
      // The held stream waits after its first token; the other three finish meanwhile.
      const others = await Promise.all(inputs.slice(1).map((ids) => model.generate(ids, options)));
      others.forEach((result, index) => expect(result.tokenIds).toEqual(alone[index + 1]!.tokenIds));
      const rest: number[] = [];
      for await (const event of held) if (event.type === 'token') rest.push(event.id);
      expect([first && first.type === 'token' ? first.id : -1, ...rest]).toEqual(alone[0]!.tokenIds);
    } finally {
      await model.dispose();
    }
  });
});

describe('GlmModel slots', () => {
  it('more requests than slots wait; a waiter aborted leaves at once; dispose aborts the running and the waiting', async () => {
    const model = await GlmModel.load(directories.optimum, { sequences: 2 });
    try {
      const inputs = prompts(4, 1);
      const options = { maxNewTokens: 40, temperature: 0, prefixCache: false } as const;
      const controller = new AbortController();
      const order: string[] = [];
      const running = inputs.slice(0, 2).map((ids, index) => model.generate(ids, options).then((result) => (order.push(`running ${index}`), result)));
      const waiting = model.generate(inputs[2]!, { ...options, signal: controller.signal }).then((result) => (order.push('aborted'), result));
      const third = model.generate(inputs[3]!, options).then((result) => (order.push('third'), result));
      controller.abort();
      const aborted = await waiting;
      expect(aborted).toMatchObject({ finishReason: 'abort', tokenIds: [], usage: { prefillTokens: 0 } });
      expect(order).toEqual(['aborted']);
      await Promise.all([...running, third]);
      expect(order.at(-1)).toBe('third');
      expect(model.batchStats.largestBatch).toBe(2);

      const a = model.generate(inputs[0]!, { maxNewTokens: 200, temperature: 0, prefixCache: false });
      const b = model.generate(inputs[1]!, { maxNewTokens: 200, temperature: 0, prefixCache: false });
      const c = model.generate(inputs[2]!, { maxNewTokens: 200, temperature: 0, prefixCache: false });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await model.dispose();
      for (const result of await Promise.all([a, b, c])) expect(result.finishReason).toBe('abort');
    } finally {
      await model.dispose();
    }
  });

  it('a request takes the slot holding the longest prefix of its prompt, the least recently used one otherwise', async () => {
    const model = await GlmModel.load(directories.optimum, { sequences: 3 });
    try {
      const [first, second, third] = prompts(3, 2).map((ids) => [...ids, ...ids, ...ids]);
      const options = { maxNewTokens: 6, temperature: 0 } as const;
      const a = await model.generate(first!, options);
      await model.generate(second!, options);
      await model.generate(third!, options);
      // The first conversation's next step finds its own slot though two requests came after it.
      const next = [...first!, ...a.tokenIds, ...prompts(1, 50)[0]!];
      const warm = await model.generate(next, options);
      expect(warm.usage.cachedTokens).toBe(first!.length + a.tokenIds.length - 1);
      // An unrelated prompt takes the least recently used slot (the second's), so the third's stays warm.
      await model.generate(prompts(1, 77)[0]!.concat(prompts(1, 78)[0]!), options);
      expect((await model.generate([...third!, 1], options)).usage.cachedTokens).toBe(third!.length);
      expect((await model.generate([...second!, 1], options)).usage.cachedTokens).toBeLessThan(second!.length);
    } finally {
      await model.dispose();
    }
  });

  it('a KV snapshot saves one slot (by tokenIds) and loads into a free slot that the continuation then takes', async () => {
    const model = await GlmModel.load(directories.gqa, { sequences: 3 });
    const fresh = await GlmModel.load(directories.gqa, { sequences: 3 });
    try {
      const [a, b] = prompts(2, 31).map((ids) => [...ids, ...ids, ...ids]);
      const options = { maxNewTokens: 8, temperature: 0 } as const;
      const [ra] = await Promise.all([model.generate(a!, options), model.generate(b!, options)]);
      const file = path.join(root, 'slot-a.kvs');
      const saved = await model.saveState(file, { tokenIds: [...a!, ...ra.tokenIds] });
      expect(saved.tokens).toBe(a!.length + ra.tokenIds.length - 1);
      await fresh.generate(b!, options); // another slot of the fresh model holds b
      expect((await fresh.loadState(file)).tokens).toBe(saved.tokens);
      const next = [...a!, ...ra.tokenIds, ...prompts(1, 60)[0]!];
      const warm = await fresh.generate(next, options);
      expect(warm.usage.cachedTokens).toBe(saved.tokens);
      expect(warm.tokenIds).toEqual((await model.generate(next, { ...options, prefixCache: false })).tokenIds);
      expect((await fresh.generate([...b!, 1], options)).usage.cachedTokens).toBe(b!.length);
    } finally {
      await model.dispose();
      await fresh.dispose();
    }
  });

  it('refuses a bad sequences or maxKvBytes before loading, with the field named', async () => {
    for (const sequences of [0, 1.5, 65, Number.NaN]) {
      await expect(GlmModel.load(directories.optimum, { sequences })).rejects.toMatchObject({ code: 'MODEL_LOAD', details: { field: 'sequences' } });
    }
    await expect(GlmModel.load(directories.optimum, { maxKvBytes: -1 })).rejects.toMatchObject({ details: { field: 'maxKvBytes' } });
    // Float weights: one sequence unless asked (batching them needs pre-packing, twice the weight bytes).
    const float = await GlmModel.load(directories.optimum);
    try {
      expect(float.sequences).toBe(1);
    } finally {
      await float.dispose();
    }
    // Pre-packed (as quantized graphs always are): the default from memory; this tiny model's context is small, so 8.
    const model = await GlmModel.load(directories.optimum, { prepacking: true });
    try {
      expect(model.sequences).toBe(8);
    } finally {
      await model.dispose();
    }
    // A budget for one full-context sequence gives one slot.
    const bytesPerToken = 2 * 2 * 2 * 32 * 4;
    const one = await GlmModel.load(directories.optimum, { maxKvBytes: bytesPerToken * 256 * 1.5, prepacking: true });
    try {
      expect(one.sequences).toBe(1);
    } finally {
      await one.dispose();
    }
  });
});
