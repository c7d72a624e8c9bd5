import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmOptions } from '../../src/index';
import { CausalLmGraph } from '../../src/models/causal-lm-graph';
import { GlmModel } from '../../src/models/glm-model';
import type { ChatMessage, GenerationEvent } from '../../src/models/language-model';
import { parseModelConfig } from '../../src/models/model-config';
import { OnnxBackend } from '../../src/models/onnx-backend';
import { streamWithAbort } from '../support/stream-with-abort';

let root: string;
let glmDir: string;
let model: GlmModel;
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three prime numbers, please.' },
];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-generation-'));
  glmDir = path.join(root, 'glm');
  await createTinyGlm(glmDir, { family: 'glm', seed: 11 });
  model = await GlmModel.load(glmDir, { executionProvider: 'cpu' });
});

afterAll(async () => {
  await model?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function loadGraph(dir: string): Promise<CausalLmGraph> {
  const config = parseModelConfig(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')), 'config.json');
  return new CausalLmGraph(await OnnxBackend.load(path.join(dir, 'onnx', 'model.onnx')), config.info);
}

describe('KV cache decode == full recompute', () => {
  const variants: [string, TinyGlmOptions][] = [
    ['glm, full rotary, num_logits_to_keep', { family: 'glm', seed: 3 }],
    ['glm4, partial rotary, bias, no num_logits_to_keep', { family: 'glm4', seed: 4, numLogitsToKeep: false }],
  ];
  for (const [name, options] of variants) {
    it(name, async () => {
      const dir = path.join(root, `decode-${options.family}-${options.seed}`);
      await createTinyGlm(dir, options);
      const graph = await loadGraph(dir);
      try {
        const ids = [5, 17, 99, 3, 250, 42, 8, 120, 7, 64, 31, 200];
        const full = await graph.forward(ids, graph.createCache(), { allPositions: true });
        const vocab = graph.info.vocabSize;
        const cache = graph.createCache();
        const prefill = 4;
        let maxDiff = 0;
        const compare = (logits: Float32Array, position: number) => {
          for (let v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[v] - full[position * vocab + v]));
        };
        compare(await graph.forward(ids.slice(0, prefill), cache), prefill - 1);
        for (let position = prefill; position < ids.length; position++) {
          compare(await graph.forward([ids[position]], cache), position);
        }
        expect(cache.length).toBe(ids.length);
        expect(maxDiff).toBeLessThan(1e-4);
        expect(graph.features.logitsToKeepInput).toBe(options.numLogitsToKeep === false ? undefined : 'num_logits_to_keep');
      } finally {
        await graph.backend.dispose();
      }
    });
  }
});

describe('GlmModel.generate', () => {
  it('greedy is deterministic and reports usage and timings', async () => {
    const first = await model.generate(conversation, { maxNewTokens: 12, temperature: 0, prefixCache: false });
    const second = await model.generate(conversation, { maxNewTokens: 12, temperature: 0, prefixCache: false });
    expect(second.tokenIds).toEqual(first.tokenIds);
    expect(second.text).toBe(first.text);
    expect(first.tokenIds.length).toBeGreaterThan(0);
    const promptTokens = model.countTokens(conversation);
    expect(first.usage).toEqual({ promptTokens, completionTokens: first.tokenIds.length, prefillTokens: promptTokens, cachedTokens: 0 });
    expect(first.timings.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(first.timings.totalMs).toBeGreaterThanOrEqual(first.timings.timeToFirstTokenMs);
  });

  it('stream: token texts concatenate to the result text, never splitting a character', async () => {
    const pieces: string[] = [];
    let end: GenerationEvent | undefined;
    for await (const event of model.stream(conversation, { maxNewTokens: 48, temperature: 1, seed: 9 })) {
      if (event.type === 'token') pieces.push(event.text);
      else end = event;
    }
    if (end?.type !== 'end') throw new Error('no end event');
    expect(pieces).toHaveLength(end.tokenIds.length);
    expect(pieces.join('')).toBe(end.text);
    // Equal to decoding all ids at once: no piece cut a multi-byte character in two.
    expect(end.text).toBe(model.tokenizer.decode(end.tokenIds.filter((id) => !model.info.eosTokenIds.includes(id))));
  });

  it('a seed reproduces a sampled sequence; different seeds differ', async () => {
    const sample = (seed: number) => model.generate(conversation, { maxNewTokens: 16, temperature: 1.5, topP: 0.95, seed });
    const a = await sample(1);
    const b = await sample(1);
    const c = await sample(2);
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(c.tokenIds).not.toEqual(a.tokenIds);
  });

  it('prefix cache: a request extending the previous one prefills only the suffix and equals a cold run', async () => {
    const first = await model.generate(conversation, { maxNewTokens: 6 });
    const extended: ChatMessage[] = [
      ...conversation,
      { role: 'assistant', content: first.text },
      { role: 'user', content: 'And three more?' },
    ];
    const promptTokens = model.countTokens(extended);
    const cachedPrefix = model.countTokens(conversation); // the rendered first prompt is a prefix of the second
    const warm = await model.generate(extended, { maxNewTokens: 10 });
    expect(warm.usage.cachedTokens).toBeGreaterThanOrEqual(cachedPrefix);
    expect(warm.usage.prefillTokens).toBe(promptTokens - warm.usage.cachedTokens);
    expect(warm.usage.prefillTokens).toBeLessThan(promptTokens);
    const cold = await model.generate(extended, { maxNewTokens: 10, prefixCache: false });
    expect(cold.usage.prefillTokens).toBe(promptTokens);
    expect(warm.tokenIds).toEqual(cold.tokenIds);

    // The same prompt again: everything but the last token comes from the cache.
    const again = await model.generate(extended, { maxNewTokens: 10 });
    expect(again.usage).toMatchObject({ prefillTokens: 1, cachedTokens: promptTokens - 1 });
    expect(again.tokenIds).toEqual(cold.tokenIds);
  });

  it('takes a string prompt or token ids', async () => {
    const ids = model.tokenize('Hello world');
    const fromText = await model.generate('Hello world', { maxNewTokens: 5 });
    const fromIds = await model.generate(ids, { maxNewTokens: 5 });
    expect(fromIds.tokenIds).toEqual(fromText.tokenIds);
    expect(fromText.usage.promptTokens).toBe(ids.length);
  });

  it('stops on maxNewTokens with finishReason length', async () => {
    const result = await model.generate(conversation, { maxNewTokens: 3 });
    expect(result.tokenIds).toHaveLength(3);
    expect(result.finishReason).toBe('length');
  });

  it('stops on a stop string that spans two tokens, without including it', async () => {
    const reference = await model.generate(conversation, { maxNewTokens: 40 });
    const pieces = reference.tokenIds.map((id) => model.tokenizer.decode([id]));
    // Find adjacent tokens whose text is plain (no replacement chars) and build a stop string across them.
    let boundary = -1;
    let stop = '';
    let before = '';
    for (let i = 0; i + 1 < pieces.length; i++) {
      const left = pieces[i];
      const right = pieces[i + 1];
      const textBefore = pieces.slice(0, i).join('') + left.slice(0, -1);
      const candidate = left.slice(-1) + right.slice(0, 1);
      const plain = /^[\x20-\x7e]+$/;
      if (left.length > 0 && right.length > 0 && plain.test(left + right) && !(textBefore + candidate).slice(0, -1).includes(candidate)) {
        boundary = i;
        stop = candidate;
        before = textBefore;
        break;
      }
    }
    expect(boundary).toBeGreaterThanOrEqual(0);
    expect(reference.text.startsWith(before + stop)).toBe(true);

    const events: GenerationEvent[] = [];
    for await (const event of model.stream(conversation, { maxNewTokens: 40, stop: [stop] })) events.push(event);
    const end = events.at(-1);
    if (end?.type !== 'end') throw new Error('no end event');
    expect(end.finishReason).toBe('stop');
    expect(end.text).toBe(before);
    expect(end.tokenIds).toEqual(reference.tokenIds.slice(0, boundary + 2));
    const streamed = events.flatMap((event) => (event.type === 'token' ? [event.text] : [])).join('');
    expect(streamed).toBe(before);
  });

  it('a stop string, a reader that stops and an abort between tokens leave the model consistent for the next request', async () => {
    const promptIds = model.promptTokenIds(conversation);
    const reference = await model.generate(promptIds, { maxNewTokens: 12, prefixCache: false });
    // A stop string: a request extending the whole sequence reuses the cache and decodes as a cold run does.
    const stop = model.tokenizer.decode(reference.tokenIds.slice(4, 6));
    const stopped = await model.generate(promptIds, { maxNewTokens: 12, stop: [stop] });
    expect(stopped.finishReason).toBe('stop');
    const extended = [...promptIds, ...stopped.tokenIds, ...model.tokenize(' and')];
    const warm = await model.generate(extended, { maxNewTokens: 6 });
    expect(warm.usage.cachedTokens).toBeGreaterThanOrEqual(promptIds.length + stopped.tokenIds.length - 1);
    expect(warm.tokenIds).toEqual((await model.generate(extended, { maxNewTokens: 6, prefixCache: false })).tokenIds);
    // A reader that stops after 3 tokens: the next request (same slot) runs as it would alone.
    let read = 0;
    for await (const event of model.stream(promptIds, { maxNewTokens: 12 })) if (event.type === 'token' && ++read === 3) break;
    expect((await model.generate(promptIds, { maxNewTokens: 12 })).tokenIds).toEqual(reference.tokenIds);
    // An abort while a token event is read: no later token is emitted.
    const { tokens, end } = await streamWithAbort(model, promptIds, 5);
    expect(tokens).toEqual(reference.tokenIds.slice(0, 5));
    expect(end).toMatchObject({ finishReason: 'abort', tokenIds: tokens });
  });

  it('stops on an eos id with finishReason stop, the eos token not in the text', async () => {
    const reference = await model.generate(conversation, { maxNewTokens: 10, prefixCache: false });
    const eosId = reference.tokenIds[4];
    const eosDir = path.join(root, 'glm-eos');
    await createTinyGlm(eosDir, { family: 'glm', seed: 11, generationConfig: { eos_token_id: [eosId] } });
    const eosModel = await GlmModel.load(eosDir);
    try {
      expect(eosModel.info.eosTokenIds).toContain(eosId);
      const result = await eosModel.generate(conversation, { maxNewTokens: 10 });
      const at = reference.tokenIds.indexOf(eosId);
      expect(result.finishReason).toBe('stop');
      expect(result.tokenIds).toEqual(reference.tokenIds.slice(0, at + 1));
      expect(result.text).toBe(eosModel.tokenizer.decode(reference.tokenIds.slice(0, at)));
    } finally {
      await eosModel.dispose();
    }
  });

  it('an abort mid-stream ends it with finishReason abort', async () => {
    const { tokens, end } = await streamWithAbort(model, conversation, 3);
    expect(end).toMatchObject({ type: 'end', finishReason: 'abort', tokenIds: tokens });
    expect(tokens).toHaveLength(3);
    const aborted = await model.generate(conversation, { signal: AbortSignal.abort() });
    expect(aborted).toMatchObject({ finishReason: 'abort', tokenIds: [] });
  });

  it('serialises concurrent calls: each gets the result it would get alone', async () => {
    const prompts = ['one two three', 'alpha beta', 'x y z w'];
    const alone = [];
    for (const prompt of prompts) alone.push((await model.generate(prompt, { maxNewTokens: 6, prefixCache: false })).tokenIds);
    const together = await Promise.all(prompts.map((prompt) => model.generate(prompt, { maxNewTokens: 6 })));
    expect(together.map((r) => r.tokenIds)).toEqual(alone);
  });
});
