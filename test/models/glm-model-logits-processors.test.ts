import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { GenerationError } from '../../src/errors';
import { GlmModel } from '../../src/models/glm-model';
import type { LogitsProcessor } from '../../src/models/language-model';

let root: string;
let model: GlmModel;
const prompt = 'Name three prime numbers, please.';

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-logits-processors-'));
  const dir = path.join(root, 'glm');
  await createTinyGlm(dir, { family: 'glm', seed: 11 });
  model = await GlmModel.load(dir, { executionProvider: 'cpu' });
});

afterAll(async () => {
  await model?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('logitsProcessors', () => {
  it('a processor that bans the greedy choice makes the output avoid that token', async () => {
    const plain = await model.generate(prompt, { maxNewTokens: 8, temperature: 0, prefixCache: false });
    const banned = plain.tokenIds[0];
    const ban: LogitsProcessor = (logits) => {
      logits[banned] = -Infinity;
    };
    const result = await model.generate(prompt, { maxNewTokens: 8, temperature: 0, prefixCache: false, logitsProcessors: [ban] });
    expect(result.tokenIds.length).toBeGreaterThan(0);
    expect(result.tokenIds).not.toContain(banned);
  });

  it('a processor that forces a token makes it appear, and sees the ids generated so far', async () => {
    const plain = await model.generate(prompt, { maxNewTokens: 4, temperature: 0, prefixCache: false });
    const forced = [42, 43, 44, 45, 46].find((id) => !plain.tokenIds.includes(id))!;
    const seen: number[][] = [];
    const force: LogitsProcessor = (logits, generatedIds) => {
      seen.push([...generatedIds]);
      if (generatedIds.length === 1) logits[forced] = 1e9;
    };
    const result = await model.generate(prompt, { maxNewTokens: 4, temperature: 0, prefixCache: false, logitsProcessors: [force] });
    expect(result.tokenIds[1]).toBe(forced);
    expect(seen[0]).toEqual([]);
    expect(seen[2]).toEqual(result.tokenIds.slice(0, 2));
  });

  it('refuses a value that is not an array of functions, naming the field', async () => {
    const bad = { logitsProcessors: ['ban'] as unknown as LogitsProcessor[] };
    await expect(model.generate(prompt, bad)).rejects.toThrow(GenerationError);
    await expect(model.generate(prompt, bad)).rejects.toThrow(/logitsProcessors/);
  });
});
