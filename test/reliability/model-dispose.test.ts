import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationError, createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { GenerationEvent } from '../../src/models/language-model';

// Issue 12: dispose() aborts the generations it finds (held by a consumer that stopped reading, queued) and resolves.
let root: string;
const directories = { optimum: '', gqa: '' };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'model-dispose-'));
  directories.optimum = path.join(root, 'optimum');
  directories.gqa = path.join(root, 'gqa');
  await createTinyGlm(directories.optimum, { seed: 3 });
  await createTinyGlm(directories.gqa, { seed: 3, attention: 'gqa', hiddenSize: 64, heads: 4, kvHeads: 2 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Resolves with 'settled' or 'timeout': a hang must fail the test, not stall it. */
function within<T>(promise: Promise<T>, ms: number): Promise<'settled' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise.then(() => 'settled' as const), timeout]).finally(() => clearTimeout(timer));
}

describe.each([
  ['optimum', 'worker'],
  ['optimum', 'main'],
  ['gqa', 'worker'],
] as const)('GlmModel.dispose with a held stream (%s layout, runIn %s)', (layout, runIn) => {
  it('aborts the held generation and the queued one, and resolves', async () => {
    const model = await GlmModel.load(directories[layout], { runIn });
    const held = model.stream('Hello there', { maxNewTokens: 50 });
    const first = await held.next();
    expect(first.value).toMatchObject({ type: 'token' });
    const queued = model.generate('A queued request', { maxNewTokens: 50 });

    expect(await within(model.dispose(), 20_000)).toBe('settled');
    await expect(queued).resolves.toMatchObject({ finishReason: 'abort', tokenIds: [] });

    // The held consumer resumes: its generation ends as an abort, without running the disposed graph.
    const rest: GenerationEvent[] = [];
    for (let step = await held.next(); !step.done; step = await held.next()) rest.push(step.value);
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatchObject({ type: 'end', finishReason: 'abort' });
    expect(rest[0]?.type === 'end' && rest[0].tokenIds).toHaveLength(1);

    expect(() => model.tokenize('x')).toThrow(GenerationError);
    await expect(model.generate('after', { maxNewTokens: 2 })).rejects.toThrow(/disposed/);
    await model.dispose(); // twice is fine
  });
});

it("a long-lived caller signal (a server's shutdown signal) keeps no listener per request", async () => {
  const model = await GlmModel.load(directories.optimum, { runIn: 'main' });
  try {
    const shutdown = new AbortController();
    for (let index = 0; index < 5; index++) await model.generate(`Request ${index}`, { maxNewTokens: 2, signal: shutdown.signal });
    const held = model.stream('Held', { maxNewTokens: 5, signal: shutdown.signal });
    await held.next();
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    await held.return(undefined);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  } finally {
    await model.dispose();
  }
});
