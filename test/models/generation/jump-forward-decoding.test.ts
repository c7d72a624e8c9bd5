import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinancialSummary } from '../../../src/agent/presets/summarize-financial-report';
import { GenerationError } from '../../../src/errors';
import type { GlmModel } from '../../../src/models/glm-model';
import { loadTinyModelPair } from '../../support/decoding-fixtures';
import type { ChatMessage, GenerateOptions, GenerationEvent, ToolSpec } from '../../../src/models/language-model';

let model: GlmModel;
let onMain: GlmModel;
let pair: Awaited<ReturnType<typeof loadTinyModelPair>> | undefined;
beforeAll(async () => {
  pair = await loadTinyModelPair('jump-forward-');
  ({ model, onMain } = pair);
});
afterAll(() => pair?.dispose());

const report: ChatMessage[] = [{ role: 'user', content: 'Summarise the report of Apple Inc. for fiscal 2024: revenue 391,035 million USD.' }];
const weatherMessages: ChatMessage[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Rome'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
};

async function events(target: GlmModel, input: ChatMessage[], options: GenerateOptions): Promise<GenerationEvent[]> {
  const seen: GenerationEvent[] = [];
  for await (const event of target.stream(input, options)) seen.push(event);
  return seen;
}

/** The events without timings (which differ run to run) and without the decoding usage (which differs by design). */
function comparable(seen: GenerationEvent[]): unknown[] {
  return seen.map((event) => {
    if (event.type !== 'end') return event;
    const { timings: _timings, usage, ...rest } = event;
    const { decoding: _decoding, ...counts } = usage;
    return { ...rest, usage: counts };
  });
}

describe('jump-forward decoding', () => {
  // Cold every time: the prefix cache's reuse is not what is compared.
  const summary = { schema: FinancialSummary, maxNewTokens: 160, prefixCache: false } satisfies GenerateOptions;

  it('FinancialSummary schema, greedy and seeded: the same events as token by token, with fewer forwards', async () => {
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 3 }, { temperature: 0.7, topK: 20, topP: 0.9, seed: 4 }]) {
      const plain = await events(model, report, { ...summary, ...sampling, jumpForward: false });
      const jumped = await events(model, report, { ...summary, ...sampling });
      expect(comparable(jumped)).toEqual(comparable(plain));
      const plainEnd = plain.at(-1) as Extract<GenerationEvent, { type: 'end' }>;
      const end = jumped.at(-1) as Extract<GenerationEvent, { type: 'end' }>;
      expect(plainEnd.usage.decoding).toMatchObject({ forcedTokens: 0, forwards: plainEnd.tokenIds.length - 1 });
      // The keys and punctuation of the schema are forced: a large share of the tokens never waits for a forward.
      expect(end.usage.decoding!.forcedTokens).toBeGreaterThan(20);
      // Each forced token saves its forward; a generation that ends inside a forced run spends one to settle the cache.
      const settled = end.usage.decoding!.forwards + end.usage.decoding!.forcedTokens - plainEnd.usage.decoding!.forwards;
      expect([0, 1]).toContain(settled);
    }
  });

  it('leaves the prefix cache as token by token does: the next request reuses every token but the last', async () => {
    // A tool call ends in a forced run (the rest of the enum value, `"}`): the generation stops inside it.
    const call = { tools: [weather], toolChoice: 'required', maxNewTokens: 60 } satisfies GenerateOptions;
    const prompt = model.promptTokenIds(weatherMessages, { tools: [weather] });
    for (const jumpForward of [false, true]) {
      const first = await model.generate(weatherMessages, { ...call, jumpForward });
      expect(first.finishReason).toBe('stop');
      const warm = await model.generate([...prompt, ...first.tokenIds, ...model.tokenize(' next')], { maxNewTokens: 1 });
      expect(warm.usage.cachedTokens).toBe(prompt.length + first.tokenIds.length - 1);
    }
  });

  it('a tools call (GLM name + newline + JSON arguments): identical tokens, on both threads', async () => {
    for (const target of [model, onMain]) {
      for (const seed of [1, 2]) {
        const options = { tools: [weather], toolChoice: 'required', temperature: 1, seed, maxNewTokens: 60 } satisfies GenerateOptions;
        const plain = await target.generate(weatherMessages, { ...options, jumpForward: false });
        const jumped = await target.generate(weatherMessages, options);
        expect(jumped.tokenIds).toEqual(plain.tokenIds);
        expect(jumped.text).toBe(plain.text);
        expect(jumped.text.startsWith('get_weather\n')).toBe(true);
        expect(jumped.usage.decoding!.forcedTokens).toBeGreaterThan(0);
      }
    }
  });

  it('maxNewTokens and stop strings cut a forced run where token by token would', async () => {
    const full = await model.generate(report, { ...summary, jumpForward: false });
    for (const maxNewTokens of [1, 2, 3, 5, 8]) {
      const cut = await model.generate(report, { ...summary, maxNewTokens });
      expect(cut.tokenIds).toEqual(full.tokenIds.slice(0, maxNewTokens));
      expect(cut.finishReason).toBe('length');
    }
    const options = { ...summary, stop: ['"period"'] };
    const stopped = await model.generate(report, options);
    expect(stopped).toMatchObject({ finishReason: 'stop', tokenIds: (await model.generate(report, { ...options, jumpForward: false })).tokenIds });
    expect(stopped.text).not.toContain('period');
  });

  it('an abort after the n-th token event ends there, as token by token', async () => {
    for (const afterTokens of [1, 3, 6]) {
      const run = async (jumpForward: boolean) => {
        const controller = new AbortController();
        const tokens: number[] = [];
        let end: GenerationEvent | undefined;
        for await (const event of model.stream(report, { ...summary, jumpForward, signal: controller.signal })) {
          if (event.type === 'token') {
            tokens.push(event.id);
            if (tokens.length === afterTokens) controller.abort();
          } else end = event;
        }
        return { tokens, end };
      };
      const plain = await run(false);
      const jumped = await run(true);
      expect(jumped.tokens).toEqual(plain.tokens);
      expect(jumped.tokens).toHaveLength(afterTokens);
      expect(jumped.end).toMatchObject({ finishReason: 'abort' });
    }
  });

  it('is off with jumpForward: false, and by default with logitsProcessors (not called at forced positions)', async () => {
    const off = await model.generate(report, { ...summary, maxNewTokens: 30, jumpForward: false });
    expect(off.usage.decoding!.forcedTokens).toBe(0);
    let calls = 0;
    const counting = () => void calls++;
    const withProcessor = await model.generate(report, { ...summary, maxNewTokens: 30, logitsProcessors: [counting] });
    expect(withProcessor.usage.decoding!.forcedTokens).toBe(0);
    expect(calls).toBe(30);
    calls = 0;
    const asked = await model.generate(report, { ...summary, maxNewTokens: 30, logitsProcessors: [counting], jumpForward: true });
    expect(asked.tokenIds).toEqual(withProcessor.tokenIds);
    expect(calls).toBe(30 - asked.usage.decoding!.forcedTokens);
    // Unconstrained output has nothing to force, and reports no decoding figures.
    expect((await model.generate(report, { maxNewTokens: 10 })).usage.decoding).toBeUndefined();
  });

  it('rejects a jumpForward that is not a boolean', async () => {
    await expect(model.generate(report, { jumpForward: 'yes' as unknown as boolean })).rejects.toThrow(GenerationError);
    await expect(model.generate(report, { jumpForward: 'yes' as unknown as boolean })).rejects.toThrow(/jumpForward/);
  });
});
