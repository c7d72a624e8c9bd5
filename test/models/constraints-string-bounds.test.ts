/**
 * maxLength enforced on the tokens (bounded-strings.ts, string-bound-tracker.ts) instead of in XGrammar's grammar:
 * the bound must hold exactly, with the tiny byte-level tokenizer and with the real 151k Qwen3 one, for plain
 * schemas, arrays of strings, nested objects and tool calls, and across rollback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import { extractBoundedStrings } from '../../src/models/constraints/bounded-strings';
import type { TokenConstraint } from '../../src/models/generation/token-constraint';
import type { JsonSchema, ToolSpec } from '../../src/models/language-model';
import { buildTinyTokenizer } from '../../src/models/tiny/tiny-tokenizer';
import { seededRandom } from '../../src/models/generation/random-generator';
import { qwenTokenizer, tokenizerFromJson, type TestTokenizer } from './constraints-helpers';

const Summary = z.object({
  name: z.string().min(2).max(5),
  tags: z.array(z.string().max(3)).max(3),
  inner: z.object({ note: z.string().max(7), flag: z.boolean() }),
  code: z.string().max(2).optional(),
  label: z.string().min(1).max(4).nullable(),
});
const toolArguments: Record<string, z.ZodType> = {
  search: z.object({ query: z.string().min(1).max(4) }),
  open: z.object({ path: z.string().max(6), page: z.int().min(1).max(9) }),
};
const tools: ToolSpec[] = Object.entries(toolArguments).map(([name, schema]) => ({
  name,
  description: name,
  parameters: z.toJSONSchema(schema) as JsonSchema,
}));

const biases = new Map<TestTokenizer, Float32Array>();
function biasOf(tokenizer: TestTokenizer, vocabSize: number): Float32Array {
  let bias = biases.get(tokenizer);
  if (bias === undefined) {
    bias = new Float32Array(vocabSize);
    tokenizer.pieces.forEach((piece, id) => {
      bias![id] = Math.min(piece.length, 8) * 0.5 - (piece.includes('"') ? 2 : 0);
    });
    biases.set(tokenizer, bias);
  }
  return bias;
}

/**
 * A model that prefers long tokens without quotes (so strings run into their maximum) and rarely stops a string on
 * its own; greedy after the mask.
 */
function run(
  constraint: TokenConstraint,
  tokenizer: TestTokenizer,
  vocabSize: number,
  stopTokenIds: number[],
  seed: number,
  maxTokens: number,
  prefix: number[] = [],
): { text: string; finished: boolean } {
  const random = seededRandom(seed);
  const bias = biasOf(tokenizer, vocabSize);
  const logits = new Float32Array(vocabSize);
  const ids: number[] = [...prefix];
  for (const id of prefix) expect(constraint.acceptToken(id)).toBe(true);
  for (let step = 0; step < maxTokens; step++) {
    for (let id = 0; id < vocabSize; id++) logits[id] = random() * 3 + bias[id]!;
    for (const id of stopTokenIds) logits[id] = 4;
    constraint.maskLogits(logits);
    let best = 0;
    for (let id = 1; id < vocabSize; id++) if (logits[id]! > logits[best]!) best = id;
    expect(constraint.acceptToken(best)).toBe(true);
    if (stopTokenIds.includes(best)) return { text: tokenizer.decode(ids), finished: true };
    ids.push(best);
  }
  return { text: tokenizer.decode(ids), finished: false };
}

/** Checks finished runs: the JSON satisfies zod, and returns the longest string seen per field to show the bound was reached. */
/** Lengths of the non-null `label`s of the runs checked so far (the nullable bounded string). */
const labels: number[] = [];

function checkSchemaRuns(texts: string[]): number {
  let atMaximum = 0;
  for (const text of texts) {
    const parsed = Summary.safeParse(JSON.parse(text));
    expect(parsed.success, text).toBe(true);
    if (parsed.data!.name.length === 5) atMaximum++;
    if (parsed.data!.label !== null) labels.push(parsed.data!.label.length);
  }
  return atMaximum;
}

describe('extractBoundedStrings', () => {
  it('takes out strings reached through properties, items and single-string unions only, with their paths', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { type: 'string', maxLength: 3 },
        b: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 9 } },
        c: { anyOf: [{ type: 'string', maxLength: 2 }, { type: 'string' }] },
        e: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'null' }] },
        d: { type: 'string', maxLength: 4, pattern: '^x' },
      },
    };
    const extracted = extractBoundedStrings(schema);
    expect([...extracted.bounds.entries()]).toEqual([
      ['["a"]', 3],
      ['["b","\\u0000*"]', 9],
      ['["e"]', 5],
    ]);
    const properties = (extracted.schema as { properties: Record<string, unknown> }).properties;
    expect(properties.c).toEqual(schema.properties.c);
    expect(properties.d).toEqual(schema.properties.d);
    expect(extracted.grammars.size).toBe(3);
    expect(properties.e).not.toEqual(schema.properties.e);
  });
});

describe('maxLength on the tokens, tiny byte-level tokenizer', () => {
  const built = buildTinyTokenizer();
  const special = built.specialTokens;
  const stopTokenIds = [special['<|endoftext|>'], special['<|user|>'], special['<|observation|>']];
  const vocabSize = built.size + 64;
  const tokenizer = tokenizerFromJson(built.json as unknown as Record<string, unknown>);
  let compiler: GrammarCompiler;
  beforeAll(async () => {
    compiler = await GrammarCompiler.fromTokenizerJson(JSON.stringify(built.json), { vocabSize, stopTokenIds });
  });
  afterAll(() => compiler.dispose());

  it('masks every byte but the quote once a string is full, and restores the budget on rollback', async () => {
    const constraint = await compiler.createConstraint({ schema: { type: 'object', properties: { a: { type: 'string', maxLength: 4 } }, required: ['a'] } });
    const allowed = (byte: number): boolean => {
      const logits = new Float32Array(vocabSize);
      constraint.maskLogits(logits);
      return logits[byte] !== -Infinity;
    };
    for (const byte of new TextEncoder().encode('{"a": "ab\u00e9')) expect(constraint.acceptToken(byte)).toBe(true);
    expect(allowed(0x64)).toBe(true); // 'd': the fourth character (é counted once)
    expect(constraint.acceptToken(0x64)).toBe(true);
    expect(allowed(0x65)).toBe(false);
    expect(allowed(0x22)).toBe(true);
    expect(constraint.acceptToken(0x65)).toBe(false); // refused on accept too, not only masked
    constraint.rollback(1);
    expect(allowed(0x65)).toBe(true);
    constraint.dispose();
  });

  it('follows escapes in unbounded strings: an escaped quote neither ends a string nor starts a bounded one', async () => {
    const constraint = await compiler.createConstraint({ schema: z.object({ free: z.string(), short: z.string().max(2) }) });
    const allowed = (byte: number): boolean => {
      const logits = new Float32Array(vocabSize);
      constraint.maskLogits(logits);
      return logits[byte] !== -Infinity;
    };
    for (const byte of new TextEncoder().encode('{"free": "x\\", \\"short\\": \\"ab')) expect(constraint.acceptToken(byte)).toBe(true);
    expect(allowed(0x63)).toBe(true); // still inside "free": no bound
    for (const byte of new TextEncoder().encode('cdef", "short": "ab')) expect(constraint.acceptToken(byte)).toBe(true);
    expect(allowed(0x63)).toBe(false);
    expect(allowed(0x22)).toBe(true);
    constraint.dispose();
  });

  it('random runs preferring long strings satisfy the zod schema (schema and tool calls)', async () => {
    const texts: string[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const constraint = await compiler.createConstraint({ schema: Summary });
      const result = run(constraint, tokenizer, vocabSize, stopTokenIds, seed, 200);
      constraint.dispose();
      if (result.finished) texts.push(result.text);
    }
    expect(texts.length, JSON.stringify(texts)).toBeGreaterThan(10);
    expect(checkSchemaRuns(texts)).toBeGreaterThan(0);
    let calls = 0;
    for (let seed = 0; seed < 20; seed++) {
      const constraint = await compiler.createConstraint({ tools, schema: Summary });
      const prefix = tokenizer.encode(['search\n', 'open\n', '\n'][seed % 3]!);
      const result = run(constraint, tokenizer, vocabSize, stopTokenIds, 100 + seed, 200, prefix);
      constraint.dispose();
      if (!result.finished) continue;
      const newline = result.text.indexOf('\n');
      const name = result.text.slice(0, newline);
      const json = JSON.parse(result.text.slice(newline + 1)) as unknown;
      if (name === '') expect(Summary.safeParse(json).success, result.text).toBe(true);
      else {
        calls++;
        expect(toolArguments[name]!.safeParse(json).success, result.text).toBe(true);
      }
    }
    expect(calls).toBeGreaterThan(0);
  }, 30_000);
});

describe('maxLength on the tokens, 151k Qwen3 tokenizer', () => {
  const vocabSize = 151936;
  const stopTokenIds = [151643];
  let compiler: GrammarCompiler;
  let tokenizer: TestTokenizer;
  beforeAll(async () => {
    tokenizer = qwenTokenizer();
    compiler = await GrammarCompiler.fromTokenizerJson(tokenizer.json, { vocabSize, stopTokenIds });
  }, 60_000);
  afterAll(() => compiler.dispose());

  it('random runs preferring long multi-character tokens never exceed a maximum', async () => {
    const texts: string[] = [];
    const unfinished: string[] = [];
    for (let seed = 0; seed < 8; seed++) {
      const constraint = await compiler.createConstraint({ schema: Summary });
      const result = run(constraint, tokenizer, vocabSize, stopTokenIds, seed, 60);
      constraint.dispose();
      if (result.finished) texts.push(result.text);
      else unfinished.push(result.text);
    }
    expect(texts.length, JSON.stringify(unfinished)).toBeGreaterThan(4);
    expect(checkSchemaRuns(texts)).toBeGreaterThan(0);
    for (const text of texts) expect(text).not.toContain('\uFFFD');
    expect(labels).toContain(4); // the nullable bounded string reached its maximum too
  }, 60_000);

  it('tool calls with a long bound (pdf.search style) stop at the bound', async () => {
    const search: ToolSpec = {
      name: 'search',
      description: 'search',
      parameters: z.toJSONSchema(z.object({ query: z.string().min(1).max(40) })) as JsonSchema,
    };
    let longest = 0;
    for (let seed = 0; seed < 4; seed++) {
      const constraint = await compiler.createConstraint({ tools: [search] });
      const result = run(constraint, tokenizer, vocabSize, stopTokenIds, seed, 40, tokenizer.encode('search\n'));
      constraint.dispose();
      if (!result.finished || !result.text.startsWith('search\n')) continue;
      const parsed = z.object({ query: z.string().min(1).max(40) }).parse(JSON.parse(result.text.slice(7)));
      longest = Math.max(longest, parsed.query.length);
    }
    expect(longest).toBe(40);
  }, 60_000);
});
