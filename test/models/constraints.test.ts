/**
 * Grammar-constrained decoding with the real 151k byte-level Qwen3 tokenizer (logits padded to 151,936 entries),
 * driven by a simulated random model. WebAssembly only, no ONNX.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import type { ToolSpec } from '../../src/models/language-model';
import { qwenTokenizer, RandomModel, type TestTokenizer } from './constraints-helpers';

const vocabSize = 151_936;
const endOfText = 151_643;
const imEnd = 151_645;
const imStart = 151_644;
const stopTokenIds = [endOfText, imEnd];

const weatherInput = z.object({
  city: z.string(),
  days: z.int().min(1).max(14).optional(),
  unit: z.enum(['celsius', 'fahrenheit']),
});
const searchInput = z.object({
  query: z.string(),
  limit: z.int().positive().optional(),
  filters: z.array(z.object({ field: z.string(), value: z.union([z.string(), z.number()]) })).max(2),
});
const pageInput = z.object({ page: z.int().min(0), confidence: z.number().min(0).max(1) });
const zodTools = { get_weather: weatherInput, search: searchInput, read_page: pageInput } as const;
const tools: ToolSpec[] = Object.entries(zodTools).map(([name, schema]) => ({
  name,
  description: `the ${name} tool`,
  parameters: z.toJSONSchema(schema),
}));

const report = z.object({
  company: z.string(),
  year: z.int().min(1900).max(2100),
  revenue: z.number().nonnegative(),
  margin: z.number().min(-1).max(1).optional(),
  currency: z.enum(['USD', 'EUR', 'CNY']),
  segments: z.array(z.object({ name: z.string(), share: z.number().min(0).max(100) })).max(3),
  audited: z.boolean(),
  notes: z.string().nullable(),
});

let tokenizer: TestTokenizer;
let compiler: GrammarCompiler;
let model: RandomModel;

beforeAll(async () => {
  tokenizer = qwenTokenizer();
  compiler = await GrammarCompiler.fromTokenizerJson(tokenizer.json, { vocabSize, stopTokenIds });
  model = new RandomModel(tokenizer, vocabSize, stopTokenIds);
});

afterAll(() => compiler.dispose());

/** Steers run `seed` towards one branch: a tool (by the first token of its name) or the answer (`\n`). */
function branchBoost(seed: number): number[] {
  const branches = [...Object.keys(zodTools), '\n'];
  return [tokenizer.encode(branches[seed % branches.length]!)[0]!];
}

/** Decodes a tool-call output and checks it against the registered tools. */
function checkToolOutput(text: string): 'call' | 'answer' {
  if (text.startsWith('\n')) return 'answer';
  const newline = text.indexOf('\n');
  const name = text.slice(0, newline) as keyof typeof zodTools;
  expect(Object.keys(zodTools)).toContain(name);
  const parsed = zodTools[name].safeParse(JSON.parse(text.slice(newline + 1)));
  expect(parsed.success, `${text}\n${parsed.error?.message}`).toBe(true);
  return 'call';
}

describe('GrammarCompiler with the 151k Qwen3 tokenizer', () => {
  it('schema: 100 random runs all end in JSON valid for the zod schema', async () => {
    let finished = 0;
    for (let seed = 0; seed < 100; seed++) {
      const constraint = await compiler.createConstraint({ schema: report });
      const run = model.run(constraint, { seed, maxTokens: 400, stopTokenIds });
      expect(run.rejected).toBe(0);
      if (run.finished) {
        finished++;
        const text = tokenizer.decode(run.ids);
        const parsed = report.safeParse(JSON.parse(text));
        expect(parsed.success, `${text}\n${parsed.error?.message}`).toBe(true);
        // The grammar was complete before the stop token: only stop tokens were left.
        expect(constraint.isTerminated()).toBe(true);
      }
      constraint.dispose();
    }
    expect(finished).toBeGreaterThanOrEqual(90);
  });

  it('tools: 100 random runs give either a valid call of a registered tool or a newline answer', async () => {
    const counts = { call: 0, answer: 0, unfinished: 0 };
    const called = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const constraint = await compiler.createConstraint({ tools });
      const run = model.run(constraint, { seed, maxTokens: 300, stopTokenIds, boostFirst: branchBoost(seed) });
      expect(run.rejected).toBe(0);
      const text = tokenizer.decode(run.ids);
      if (!run.finished) {
        // Unfinished runs are a prefix of an allowed output: a tool name line or an answer.
        expect(text.startsWith('\n') || Object.keys(zodTools).some((name) => text.startsWith(`${name}\n`))).toBe(true);
        counts.unfinished++;
      } else {
        const kind = checkToolOutput(text);
        counts[kind]++;
        if (kind === 'call') called.add(text.slice(0, text.indexOf('\n')));
      }
      constraint.dispose();
    }
    expect(counts.call).toBeGreaterThanOrEqual(60);
    expect(counts.answer).toBeGreaterThanOrEqual(15);
    expect(called.size).toBe(3);
    expect(counts.unfinished).toBeLessThanOrEqual(10);
  });

  it('tools with an output schema: answers are a newline then JSON valid for the schema', async () => {
    const answer = z.object({ summary: z.string(), score: z.int().min(0).max(10) });
    let answers = 0;
    let calls = 0;
    for (let seed = 0; seed < 60; seed++) {
      const constraint = await compiler.createConstraint({ tools, schema: answer });
      const run = model.run(constraint, { seed, maxTokens: 300, stopTokenIds, boostFirst: branchBoost(seed) });
      expect(run.rejected).toBe(0);
      if (!run.finished) continue;
      const text = tokenizer.decode(run.ids);
      if (checkToolOutput(text) === 'answer') {
        answers++;
        expect(answer.safeParse(JSON.parse(text.slice(1))).success, text).toBe(true);
      } else {
        calls++;
      }
      constraint.dispose();
    }
    expect(answers).toBeGreaterThanOrEqual(10);
    expect(calls).toBeGreaterThanOrEqual(30);
  });

  it("toolChoice 'none': only the answer branch, even when the model prefers a call", async () => {
    const answer = z.object({ summary: z.string(), score: z.int().min(0).max(10) });
    let finished = 0;
    for (let seed = 0; seed < 8; seed++) {
      const constraint = await compiler.createConstraint({ tools, schema: answer, toolChoice: 'none' });
      const run = model.run(constraint, { seed, maxTokens: 300, stopTokenIds, boostFirst: branchBoost(seed) });
      expect(run.rejected).toBe(0);
      if (run.finished) {
        finished++;
        const text = tokenizer.decode(run.ids);
        expect(checkToolOutput(text)).toBe('answer');
        expect(answer.safeParse(JSON.parse(text.slice(1))).success, text).toBe(true);
      }
      constraint.dispose();
    }
    expect(finished).toBeGreaterThanOrEqual(4);
    const constraint = await compiler.createConstraint({ tools, toolChoice: 'none' });
    expect(constraint.acceptToken(tokenizer.encode('get_weather')[0]!)).toBe(false);
    for (const id of tokenizer.encode('\nFree text answer.')) expect(constraint.acceptToken(id)).toBe(true);
    constraint.dispose();
  });

  it("toolChoice 'required': only calls, even when the model prefers the answer", async () => {
    let calls = 0;
    for (let seed = 0; seed < 8; seed++) {
      const constraint = await compiler.createConstraint({ tools, toolChoice: 'required' });
      const run = model.run(constraint, { seed, maxTokens: 300, stopTokenIds, boostFirst: [tokenizer.encode('\n')[0]!] });
      expect(run.rejected).toBe(0);
      if (run.finished) {
        calls++;
        expect(checkToolOutput(tokenizer.decode(run.ids))).toBe('call');
      }
      constraint.dispose();
    }
    expect(calls).toBeGreaterThanOrEqual(4);
    const constraint = await compiler.createConstraint({ tools, toolChoice: 'required' });
    expect(constraint.acceptToken(tokenizer.encode('\n')[0]!)).toBe(false);
    constraint.dispose();
  });

  it('accepts a known valid call token by token, then allows only stop tokens', async () => {
    const constraint = await compiler.createConstraint({ tools });
    const ids = tokenizer.encode('get_weather\n{"city": "Beijing", "days": 3, "unit": "celsius"}');
    const logits = new Float32Array(vocabSize);
    for (const id of ids) {
      logits.fill(0);
      constraint.maskLogits(logits);
      expect(logits[id]).toBe(0);
      expect(constraint.isTerminated()).toBe(false);
      expect(constraint.acceptToken(id)).toBe(true);
    }
    expect(constraint.isTerminated()).toBe(true);
    logits.fill(0);
    constraint.maskLogits(logits);
    const allowed: number[] = [];
    logits.forEach((value, id) => value === 0 && allowed.push(id));
    expect(allowed.sort()).toEqual([...stopTokenIds].sort());
    expect(constraint.acceptToken(tokenizer.encode(' ')[0]!)).toBe(false);
    expect(constraint.acceptToken(imEnd)).toBe(true);
    expect(constraint.isTerminated()).toBe(true);
    constraint.dispose();
  });

  it('rejects and masks an invalid argument token, an unknown tool and extra properties', async () => {
    const constraint = await compiler.createConstraint({ tools });
    for (const id of tokenizer.encode('get_weather\n{"city": ')) expect(constraint.acceptToken(id)).toBe(true);
    const logits = new Float32Array(vocabSize);
    constraint.maskLogits(logits);
    // A number where the schema wants a string.
    const three = tokenizer.encode('3')[0]!;
    expect(logits[three]).toBe(-Infinity);
    expect(constraint.acceptToken(three)).toBe(false);
    // The rejected token left the state unchanged: the string can still start.
    expect(constraint.acceptToken(tokenizer.encode('"')[0]!)).toBe(true);
    constraint.dispose();

    const badEnum = await compiler.createConstraint({ tools });
    const enumIds = tokenizer.encode('get_weather\n{"city": "Paris", "unit": "kelvin"}');
    const firstRejected = enumIds.findIndex((id) => !badEnum.acceptToken(id));
    expect(firstRejected).toBeGreaterThan(0);
    expect(tokenizer.decode(enumIds.slice(0, firstRejected))).not.toContain('"k');
    expect(tokenizer.decode(enumIds.slice(0, firstRejected + 1))).toContain('"unit": "k');
    badEnum.dispose();

    const unknownTool = await compiler.createConstraint({ tools });
    const ids = tokenizer.encode('delete_everything\n{}');
    const accepted = ids.map((id) => unknownTool.acceptToken(id));
    expect(accepted.includes(false)).toBe(true);
    unknownTool.dispose();

    const extra = await compiler.createConstraint({ schema: weatherInput });
    const valid = tokenizer.encode('{"city": "Oslo", "unit": "celsius"}');
    const invalid = tokenizer.encode('{"city": "Oslo", "color": "red"}');
    expect(valid.every((id) => extra.acceptToken(id))).toBe(true);
    extra.rollback(valid.length);
    expect(invalid.map((id) => extra.acceptToken(id)).includes(false)).toBe(true);
    extra.dispose();
  });

  it('masks padding ids beyond the tokenizer and special tokens in every state', async () => {
    const constraint = await compiler.createConstraint({ tools });
    const logits = new Float32Array(vocabSize);
    const ids = tokenizer.encode('\nThe answer is 42.');
    for (const id of [undefined, ...ids]) {
      if (id !== undefined) expect(constraint.acceptToken(id)).toBe(true);
      logits.fill(1);
      constraint.maskLogits(logits);
      expect(logits.subarray(tokenizer.size).every((value) => value === -Infinity)).toBe(true);
      expect(logits[imStart]).toBe(-Infinity);
    }
    // Free text: almost everything is allowed, including the stop tokens.
    expect(logits[endOfText]).toBe(1);
    expect(logits.filter((value) => value === 1).length).toBeGreaterThan(100_000);
    expect(constraint.acceptToken(tokenizer.size + 3)).toBe(false);
    expect(constraint.acceptToken(vocabSize + 5)).toBe(false);
    constraint.dispose();
  });

  it('rollback restores the state (mask and acceptance)', async () => {
    const constraint = await compiler.createConstraint({ schema: report });
    const ids = tokenizer.encode('{"company": "ACME", "year": 2024, "revenue": 12.5, "currency": "EUR"');
    const logits = new Float32Array(vocabSize);
    for (const id of ids.slice(0, 6)) expect(constraint.acceptToken(id)).toBe(true);
    constraint.maskLogits(logits.fill(0));
    const before = Float32Array.from(logits);
    for (const id of ids.slice(6)) expect(constraint.acceptToken(id)).toBe(true);
    constraint.maskLogits(logits.fill(0));
    const same = (a: Float32Array, b: Float32Array) => a.every((value, index) => Object.is(value, b[index]));
    expect(same(logits, before)).toBe(false);
    constraint.rollback(ids.length - 6);
    constraint.maskLogits(logits.fill(0));
    expect(same(logits, before)).toBe(true);
    for (const id of ids.slice(6)) expect(constraint.acceptToken(id)).toBe(true);
    expect(() => constraint.rollback(ids.length + 1)).toThrow(/rollback/);
    constraint.rollback(ids.length);
    expect(constraint.acceptToken(tokenizer.encode('[')[0]!)).toBe(false);
    expect(constraint.acceptToken(tokenizer.encode('{"')[0]!)).toBe(true);
    constraint.dispose();
    expect(() => constraint.acceptToken(1)).toThrow(/dispose/);
  });

  it('caches compiled grammars by request: the same request does not recompile', async () => {
    const before = compiler.statistics;
    const schema = z.object({ id: z.string(), tags: z.array(z.enum(['x', 'y'])) });
    const first = await compiler.createConstraint({ tools, schema });
    expect(compiler.statistics.compilations).toBe(before.compilations + 1);
    // Equal content in new objects, other descriptions: the same grammar, not compiled again.
    const sameTools = tools.map((tool) => ({ ...tool, description: 'changed', parameters: { ...tool.parameters } }));
    const second = await compiler.createConstraint({ tools: sameTools, schema });
    expect(compiler.statistics.compilations).toBe(before.compilations + 1);
    expect(compiler.statistics.cacheHits).toBe(before.cacheHits + 1);
    await compiler.createConstraint({ tools: tools.slice(0, 2), schema });
    expect(compiler.statistics.compilations).toBe(before.compilations + 2);
    // Matchers are independent even when they share a grammar.
    expect(first.acceptToken(tokenizer.encode('get')[0]!)).toBe(true);
    for (const id of tokenizer.encode('\n{"id": "a", "tags": ["y"]}')) expect(second.acceptToken(id)).toBe(true);
    expect(second.isTerminated()).toBe(true);
    expect(first.isTerminated()).toBe(false);
    first.dispose();
    second.dispose();
  });
});
