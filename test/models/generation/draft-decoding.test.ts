import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinancialSummary } from '../../../src/agent/presets/summarize-financial-report';
import { GenerationError } from '../../../src/errors';
import { createTinyGlm, type TinyGlmOptions } from '../../../src/index';
import { silentLogger } from '../../../src/observability/logger';
import { CausalLmGraph } from '../../../src/models/causal-lm-graph';
import { GlmModel } from '../../../src/models/glm-model';
import { parseModelConfig } from '../../../src/models/model-config';
import { resolveModelFiles } from '../../../src/models/model-files';
import { OnnxBackend } from '../../../src/models/onnx-backend';
import { WorkerGraph } from '../../../src/models/worker-graph';
import type { Drafter } from '../../../src/models/generation/drafter';
import { replayDrafter, steerTo, loadTinyModelPair } from '../../support/decoding-fixtures';
import type { ChatMessage, GenerateOptions, GenerationEvent, ModelInput, ToolSpec } from '../../../src/models/language-model';

let root: string;
let model: GlmModel;
let onMain: GlmModel;
let pair: Awaited<ReturnType<typeof loadTinyModelPair>> | undefined;
beforeAll(async () => {
  pair = await loadTinyModelPair('draft-decoding-');
  ({ root, model, onMain } = pair);
});
afterAll(() => pair?.dispose());

const prompt = 'The quarterly revenue of the company rose by ten percent to 391 million dollars, and the net income of the company rose';
const report: ChatMessage[] = [{ role: 'user', content: 'Summarise the report of Apple Inc. for fiscal 2024: revenue 391,035 million USD.' }];
const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'], additionalProperties: false },
};

const replay = replayDrafter;

/** Proposes the right tokens with every other one replaced by a wrong id: accepted prefixes of 0 or 1 tokens. */
function flawed(tokenIds: readonly number[], vocabSize: number): Drafter {
  return {
    propose: ({ generatedIds, maxTokens }) =>
      tokenIds.slice(generatedIds.length, generatedIds.length + maxTokens).map((id, index) => (index % 2 === 1 ? (id + 7) % vocabSize : id)),
  };
}

async function events(target: GlmModel, input: ModelInput, options: GenerateOptions): Promise<GenerationEvent[]> {
  const seen: GenerationEvent[] = [];
  for await (const event of target.stream(input, options)) seen.push(event);
  return seen;
}

function tokenEvents(seen: GenerationEvent[]): GenerationEvent[] {
  return seen.filter((event) => event.type === 'token');
}

function endOf(seen: GenerationEvent[]): Extract<GenerationEvent, { type: 'end' }> {
  return seen.at(-1) as Extract<GenerationEvent, { type: 'end' }>;
}

describe('draft verification', () => {
  it('drafts known to be right are all accepted: the same token events with k+1 tokens per forward', async () => {
    for (const target of [model, onMain]) {
      const plain = await events(target, prompt, { maxNewTokens: 64 });
      const ids = endOf(plain).tokenIds;
      for (const maxTokens of [4, 8]) {
        const drafted = await events(target, prompt, { maxNewTokens: 64, draft: { drafter: replay(ids), maxTokens } });
        expect(tokenEvents(drafted)).toEqual(tokenEvents(plain));
        expect(endOf(drafted)).toMatchObject({ text: endOf(plain).text, finishReason: endOf(plain).finishReason });
        const decoding = endOf(drafted).usage.decoding!;
        expect(decoding.acceptedDraftTokens).toBe(decoding.draftTokens);
        // 63 tokens after the first, k + 1 of them per forward.
        expect(decoding.forwards).toBe(Math.ceil(63 / (maxTokens + 1)));
      }
    }
  });

  it('wrong drafts cost forwards, never tokens: greedy output identical, rejected drafts dropped from the cache', async () => {
    const plain = await model.generate(prompt, { maxNewTokens: 48 });
    const drafted = await model.generate(prompt, { maxNewTokens: 48, draft: { drafter: flawed(plain.tokenIds, model.info.vocabSize), maxTokens: 4 } });
    expect(drafted.tokenIds).toEqual(plain.tokenIds);
    expect(drafted.usage.decoding!.acceptedDraftTokens).toBeLessThan(drafted.usage.decoding!.draftTokens);
    // The cache holds exactly the sequence: a continuation reuses it and decodes as from a cold start.
    const next = [...model.promptTokenIds(prompt), ...drafted.tokenIds.slice(0, 20)];
    const warm = await model.generate(next, { maxNewTokens: 12 });
    const cold = await model.generate(next, { maxNewTokens: 12, prefixCache: false });
    expect(warm.usage.cachedTokens).toBeGreaterThan(0);
    expect(warm.tokenIds).toEqual(cold.tokenIds);
  });

  it('prompt lookup: greedy output identical, drafts copied from the prompt', async () => {
    const quoting = `${prompt} ${prompt}`;
    const plain = await model.generate(quoting, { maxNewTokens: 48 });
    const drafted = await model.generate(quoting, { maxNewTokens: 48, draft: { kind: 'prompt-lookup', maxTokens: 6 } });
    expect(drafted.tokenIds).toEqual(plain.tokenIds);
    expect(drafted.usage.decoding!.draftTokens).toBeGreaterThan(0);
  });

  it('a FinancialSummary schema and a tools call: with the grammar masking each verified row, identical greedy tokens', async () => {
    for (const options of [
      { schema: FinancialSummary, maxNewTokens: 120 },
      { tools: [weather], toolChoice: 'required', maxNewTokens: 40 },
    ] satisfies GenerateOptions[]) {
      const plain = await events(model, report, { ...options, jumpForward: false });
      const ids = endOf(plain).tokenIds;
      for (const drafter of [replay(ids), flawed(ids, model.info.vocabSize)]) {
        for (const jumpForward of [false, true]) {
          const drafted = await events(model, report, { ...options, jumpForward, draft: { drafter, maxTokens: 5 } });
          expect(tokenEvents(drafted)).toEqual(tokenEvents(plain));
          expect(endOf(drafted).finishReason).toBe(endOf(plain).finishReason);
        }
      }
      const ceiling = endOf(await events(model, report, { ...options, draft: { drafter: replay(ids), maxTokens: 5 } })).usage.decoding!;
      expect(ceiling.forwards).toBeLessThan(ids.length / 3);
    }
  });

  it("grammar drafts: the tokenizer's spelling of the forced text, verified; identical tokens, fewer forwards when the model writes it", async () => {
    const schema = { schema: FinancialSummary, maxNewTokens: 100, prefixCache: false } satisfies GenerateOptions;
    const plain = await model.generate(report, { ...schema, jumpForward: false });
    const drafted = await model.generate(report, { ...schema, draft: { kind: 'grammar', maxTokens: 8 } });
    expect(drafted.tokenIds).toEqual(plain.tokenIds);
    expect(drafted.usage.decoding!.draftTokens).toBeGreaterThan(0);
    // Steered to the text a trained model writes (spelled as the tokenizer spells it): the drafts are accepted.
    const target = model.tokenize('{"company": "Apple Inc.", "period": "fiscal 2024", "currency": "USD", "revenue": {"value": 391035, "unit": "millions", "page": 28}');
    const steered = { ...schema, maxNewTokens: target.length, logitsProcessors: [steerTo(target)], jumpForward: true } satisfies GenerateOptions;
    const jumped = await model.generate(report, steered);
    const both = await model.generate(report, { ...steered, draft: { kind: 'grammar', maxTokens: 8 } });
    expect(jumped.tokenIds).toEqual(target);
    expect(both.tokenIds).toEqual(target);
    expect(both.usage.decoding!.acceptedDraftTokens).toBeGreaterThan(10);
    expect(both.usage.decoding!.forwards).toBeLessThan(jumped.usage.decoding!.forwards);
  });

  it('an abort after the n-th token event ends there, as without drafts', async () => {
    const plain = await model.generate(prompt, { maxNewTokens: 40 });
    for (const afterTokens of [1, 2, 5]) {
      const controller = new AbortController();
      const tokens: number[] = [];
      let end: GenerationEvent | undefined;
      for await (const event of model.stream(prompt, { maxNewTokens: 40, signal: controller.signal, draft: { drafter: replay(plain.tokenIds), maxTokens: 8 } })) {
        if (event.type === 'token') {
          tokens.push(event.id);
          if (tokens.length === afterTokens) controller.abort();
        } else end = event;
      }
      expect(tokens).toEqual(plain.tokenIds.slice(0, afterTokens));
      expect(end).toMatchObject({ finishReason: 'abort' });
    }
  });

  it('sampling: a seed reproduces the drafted run; stop strings and maxNewTokens end it as without drafts', async () => {
    const options = { maxNewTokens: 40, temperature: 0.9, topK: 40, seed: 12, draft: { kind: 'prompt-lookup', maxTokens: 4 } } satisfies GenerateOptions;
    const first = await model.generate(prompt, options);
    expect((await model.generate(prompt, options)).tokenIds).toEqual(first.tokenIds);
    expect(first.tokenIds).toHaveLength(40);
    const plain = await model.generate(prompt, { maxNewTokens: 30 });
    const stop = plain.text.slice(10, 14);
    const stopped = await model.generate(prompt, { maxNewTokens: 30, stop: [stop], draft: { drafter: replay(plain.tokenIds), maxTokens: 8 } });
    expect(stopped).toMatchObject({ text: (await model.generate(prompt, { maxNewTokens: 30, stop: [stop] })).text, finishReason: 'stop' });
  });

  it('rejects malformed draft options and drafts with typed errors', async () => {
    const bad: unknown[] = [
      { kind: 'lookahead' },
      { kind: 'prompt-lookup', maxTokens: 0 },
      { kind: 'prompt-lookup', maxTokens: 65 },
      { kind: 'prompt-lookup', ngram: 3 },
      { drafter: {} },
      { drafter: replay([]), kind: 'prompt-lookup' },
      'prompt-lookup',
    ];
    for (const draft of bad) {
      await expect(model.generate(prompt, { maxNewTokens: 4, draft: draft as GenerateOptions['draft'] })).rejects.toThrow(GenerationError);
    }
    for (const proposal of [[1.5], [model.info.vocabSize], 'abc']) {
      const broken = { propose: () => proposal } as unknown as Drafter;
      await expect(model.generate(prompt, { maxNewTokens: 4, draft: { drafter: broken } })).rejects.toThrow(/drafter/);
    }
    // The model stays usable: the failed generation left a clean cache.
    expect((await model.generate(prompt, { maxNewTokens: 4 })).tokenIds).toHaveLength(4);
  });
});

describe('draft verification and jump-forward on other graphs', () => {
  const variants: [string, TinyGlmOptions][] = [
    ['genai layout, GroupQueryAttention, shared KV buffer', { family: 'glm', seed: 5, attention: 'gqa' }],
    ['glm4 without num_logits_to_keep (all rows come back)', { family: 'glm4', seed: 6, numLogitsToKeep: false }],
    ['fp16 logits and KV', { family: 'glm', seed: 7, dtype: 'fp16' }],
  ];
  for (const [name, options] of variants) {
    it(name, async () => {
      const dir = path.join(root, `variant-${options.seed}`);
      await createTinyGlm(dir, options);
      const variant = await GlmModel.load(dir);
      try {
        const plain = await variant.generate(prompt, { maxNewTokens: 40 });
        for (const drafter of [replay(plain.tokenIds), flawed(plain.tokenIds, variant.info.vocabSize)]) {
          expect((await variant.generate(prompt, { maxNewTokens: 40, draft: { drafter, maxTokens: 6 } })).tokenIds).toEqual(plain.tokenIds);
        }
        const schema = { schema: FinancialSummary, maxNewTokens: 80 } satisfies GenerateOptions;
        const tokenByToken = await variant.generate(report, { ...schema, jumpForward: false });
        const jumped = await variant.generate(report, { ...schema, draft: { drafter: flawed(tokenByToken.tokenIds, variant.info.vocabSize) } });
        expect(jumped.tokenIds).toEqual(tokenByToken.tokenIds);
        expect(jumped.usage.decoding!.forcedTokens).toBeGreaterThan(0);
      } finally {
        await variant.dispose();
      }
    });
  }
});

describe('forward { rows }', () => {
  it('returns the last rows of an all-positions forward, chunked or not, on this thread and in the worker', async () => {
    const files = resolveModelFiles(path.join(root, 'glm'));
    const config = parseModelConfig(JSON.parse(readFileSync(files.configFile, 'utf8')), files.configFile);
    const vocab = config.info.vocabSize;
    const ids = [5, 17, 99, 3, 250, 42, 8, 120, 7, 64];
    const local = new CausalLmGraph(await OnnxBackend.load(files.onnxFile), config.info, { prefillChunkSize: 4 });
    const remote = await WorkerGraph.load({ onnxFile: files.onnxFile, info: config.info, backend: {}, graph: {}, logger: silentLogger() });
    // The worker has one cache: a fresh mirror starts it over.
    const freshRemoteCache = () => {
      const cache = remote.createCache();
      cache.clear();
      return cache;
    };
    try {
      const all = await remote.forward(ids, freshRemoteCache(), { allPositions: true });
      for (const rows of [1, 3, 6]) {
        const tail = all.subarray((ids.length - rows) * vocab);
        // The graph slices the hidden states before lm_head (num_logits_to_keep): the same rows, up to float rounding.
        const close = (logits: Float32Array): void => {
          expect(logits).toHaveLength(rows * vocab);
          let maxDiff = 0;
          for (let i = 0; i < tail.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i]! - tail[i]!));
          expect(maxDiff).toBeLessThan(1e-4);
        };
        close(await remote.forward(ids, freshRemoteCache(), { rows }));
        const cache = local.createCache();
        close(await local.forward(ids, cache, { rows }));
        expect(cache.tokenIds).toEqual(ids);
      }
      await expect(remote.forward(ids, freshRemoteCache(), { rows: 11 })).rejects.toThrow(GenerationError);
      await expect(local.forward(ids, local.createCache(), { rows: 0 })).rejects.toThrow(GenerationError);
    } finally {
      await remote.dispose();
      await local.backend.dispose();
    }
  });
});
