import { seededRandom } from '../../src/models/generation/random-generator';
/**
 * Grammar-constrained decoding with the tiny GLM byte-level tokenizer (512 ids, GLM special tokens, logits padded):
 * exact number ranges, vocabulary handling, caching, errors. Ids 0-255 are the single bytes, so any text can be fed
 * byte by byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoglmError, GenerationError, TokenizerError } from '../../src/errors';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import type { TokenConstraint } from '../../src/models/generation/token-constraint';
import type { JsonSchema } from '../../src/models/language-model';
import { buildTinyTokenizer } from '../../src/models/tiny/tiny-tokenizer';
import { RandomModel, tokenizerFromJson, type TestTokenizer } from './constraints-helpers';

const built = buildTinyTokenizer();
const special = built.specialTokens;
const stopTokenIds = [special['<|endoftext|>'], special['<|user|>'], special['<|observation|>']];
const vocabSize = built.size + 64;
const bytes = (text: string): number[] => [...new TextEncoder().encode(text)];

let compiler: GrammarCompiler;
let tokenizer: TestTokenizer;

beforeAll(async () => {
  compiler = await GrammarCompiler.fromTokenizerJson(JSON.stringify(built.json), { vocabSize, stopTokenIds });
  tokenizer = tokenizerFromJson(built.json as unknown as Record<string, unknown>);
});

afterAll(() => compiler.dispose());

/** True if the constraint accepts `ids` and then a stop token (the output is complete). */
function acceptsAll(constraint: TokenConstraint, ids: number[]): boolean {
  const accepted = ids.every((id) => constraint.acceptToken(id)) && constraint.acceptToken(stopTokenIds[0]!);
  constraint.dispose();
  return accepted;
}

async function accepts(schema: JsonSchema | z.ZodType, text: string): Promise<boolean> {
  return acceptsAll(await compiler.createConstraint({ schema }), bytes(text));
}

/** Canonical decimal text of a number (what the grammar allows: no exponent, no trailing zero). */
function canonical(value: number): string {
  return String(Number(value.toFixed(6)));
}

describe('GrammarCompiler with a small byte-level GLM tokenizer', () => {
  it('bounded numbers and integers accept exactly the values within the bounds (integer bounds)', async () => {
    const random = seededRandom(7);
    const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
    let checked = 0;
    for (let round = 0; round < 24; round++) {
      const integer = round % 2 === 0;
      const low = round % 5 === 0 ? undefined : pick(-150, 120);
      const high = round % 7 === 0 ? undefined : (low ?? -50) + pick(0, 260);
      const lowExclusive = random() < 0.3;
      const highExclusive = random() < 0.3;
      const schema: JsonSchema = { type: integer ? 'integer' : 'number' };
      if (low !== undefined) schema[lowExclusive ? 'exclusiveMinimum' : 'minimum'] = low;
      if (high !== undefined) schema[highExclusive ? 'exclusiveMaximum' : 'maximum'] = high;
      const constraint = await compiler.createConstraint({ schema });
      constraint.dispose();
      const candidates = new Set<number>();
      for (const edge of [low, high]) if (edge !== undefined) for (const delta of [-1, -0.5, 0, 0.25, 1]) candidates.add(edge + delta);
      for (let index = 0; index < 30; index++) candidates.add(pick(-400, 400) + (random() < 0.5 ? 0 : pick(1, 7) / 8));
      candidates.add(0);
      candidates.add(12345);
      for (const value of candidates) {
        const within =
          (!integer || Number.isInteger(value)) &&
          (low === undefined || (lowExclusive ? value > low : value >= low)) &&
          (high === undefined || (highExclusive ? value < high : value <= high));
        expect(await accepts(schema, canonical(value)), `${JSON.stringify(schema)} ${value}`).toBe(within);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(700);
  });

  it('fractional bounds are never exceeded, and the familiar ones behave', async () => {
    expect(await accepts({ type: 'number', minimum: 0, maximum: 1 }, '1.5')).toBe(false);
    expect(await accepts({ type: 'number', minimum: 0, maximum: 1 }, '0.75')).toBe(true);
    expect(await accepts({ type: 'integer', minimum: -5, maximum: 120 }, '121')).toBe(false);
    expect(await accepts(z.number().positive(), '0')).toBe(false);
    expect(await accepts(z.number().positive(), '0.5')).toBe(true);
    expect(await accepts(z.number().nonnegative(), '-0.5')).toBe(false);
    expect(await accepts(z.int(), '-9007199254740991')).toBe(true);
    expect(await accepts(z.int(), '9007199254740992')).toBe(false);
    expect(await accepts(z.number().nullable(), 'null')).toBe(true);
    expect(await accepts({ type: ['number', 'null'], minimum: 2 }, 'null')).toBe(true);
    expect(await accepts({ type: ['number', 'null'], minimum: 2 }, '1')).toBe(false);
    // Unbounded numbers stay finite: no exponent, at most 20 integer digits.
    expect(await accepts(z.number(), '1e5')).toBe(false);
    expect(await accepts(z.number(), '-12345678901234567890.25')).toBe(true);
    expect(await accepts(z.number(), '123456789012345678901')).toBe(false);
    expect(await accepts(z.object({ any: z.any() }), '{"any": [1.5, -2, {"x": 3}]}')).toBe(true);
    expect(await accepts(z.object({ any: z.any() }), '{"any": 1e400}')).toBe(false);
    const schema = { type: 'number', minimum: -2.5, maximum: 3.25 };
    for (const text of ['-2.6', '-3', '3.3', '4', '-2.5', '3.25', '-2', '3', '2.75', '-1.5', '0']) {
      const value = Number(text);
      if (await accepts(schema, text)) expect(value >= -2.5 && value <= 3.25, text).toBe(true);
    }
    expect(await accepts(schema, '2.75')).toBe(true);
    await expect(compiler.createConstraint({ schema: { type: 'integer', minimum: 5, maximum: 1 } })).rejects.toThrow(
      /admit no integer/,
    );
  });

  it('100 random runs over a zod schema (optional, enum, array, nested, numbers) all parse', async () => {
    const schema = z.object({
      title: z.string(),
      kind: z.enum(['report', 'memo']),
      pages: z.int().min(1).max(500),
      ratio: z.number().min(0).max(1).optional(),
      authors: z.array(z.object({ name: z.string(), lead: z.boolean().optional() })).max(2),
      meta: z.object({ year: z.int(), score: z.number() }).optional(),
    });
    const model = new RandomModel(tokenizer, vocabSize, stopTokenIds);
    let finished = 0;
    for (let seed = 0; seed < 100; seed++) {
      const constraint = await compiler.createConstraint({ schema });
      const run = model.run(constraint, { seed, maxTokens: 300, stopTokenIds });
      constraint.dispose();
      expect(run.rejected).toBe(0);
      if (!run.finished) continue;
      finished++;
      const text = tokenizer.decode(run.ids);
      const parsed = schema.safeParse(JSON.parse(text));
      expect(parsed.success, `${text}\n${parsed.error?.message}`).toBe(true);
    }
    expect(finished).toBeGreaterThanOrEqual(90);
  });

  it('tool parameters without a type are an object; rollback can undo the stop token', async () => {
    const constraint = await compiler.createConstraint({ tools: [{ name: 'f', description: '', parameters: {} }] });
    const call = bytes('f\n{"x": [1, "y"]}');
    expect(call.every((id) => constraint.acceptToken(id))).toBe(true);
    expect(constraint.isTerminated()).toBe(true);
    expect(constraint.acceptToken(stopTokenIds[1]!)).toBe(true);
    constraint.rollback(1);
    expect(constraint.isTerminated()).toBe(true);
    // Back inside the string "y: a raw newline is not JSON, the closing quote is.
    constraint.rollback(3);
    expect(constraint.isTerminated()).toBe(false);
    expect(constraint.acceptToken(bytes('\n')[0]!)).toBe(false);
    expect(constraint.acceptToken(bytes('"')[0]!)).toBe(true);
    constraint.dispose();
    expect(acceptsAll(await compiler.createConstraint({ tools: [{ name: 'f', description: '', parameters: {} }] }), bytes('f\n5'))).toBe(false);
    // Names with dots are literal text; one name being a prefix of another is fine.
    const named = [
      { name: 'pdf.extract', description: '', parameters: z.toJSONSchema(z.object({ path: z.string() })) },
      { name: 'pdf.extract_tables', description: '', parameters: {} },
      { name: 'say_hi', description: '', parameters: {} },
    ];
    const call1 = 'pdf.extract\n{"path": "a.pdf"}';
    expect(acceptsAll(await compiler.createConstraint({ tools: named }), bytes(call1))).toBe(true);
    expect(acceptsAll(await compiler.createConstraint({ tools: named }), bytes('pdf.extract_tables\n{}'))).toBe(true);
    expect(acceptsAll(await compiler.createConstraint({ tools: named }), bytes('say_hi\n{}'))).toBe(true);
    // The one tool-name rule (chat-format.ts): quotes, spaces and control-token text are not names.
    await expect(compiler.createConstraint({ tools: [{ name: 'say"hi"', description: '', parameters: {} }] })).rejects.toThrow(/dotted identifier/);
    expect(acceptsAll(await compiler.createConstraint({ tools: named }), bytes('pdf.extract\n{}'))).toBe(false);
  });

  it('writes JSON in one compact layout (", " and ": ")', async () => {
    const schema = z.object({ a: z.int(), b: z.array(z.string()) });
    expect(await accepts(schema, '{"a": 1, "b": ["x", "y"]}')).toBe(true);
    expect(await accepts(schema, '{"a":1,"b":[]}')).toBe(false);
    expect(await accepts(schema, '{ "a": 1, "b": [] }')).toBe(false);
  });

  it('never allows special tokens or padding, and allows stop tokens where the grammar may end', async () => {
    const constraint = await compiler.createConstraint({ tools: [{ name: 'f', description: '', parameters: {} }] });
    expect(constraint.acceptToken(bytes('\n')[0]!)).toBe(true);
    const logits = new Float32Array(vocabSize).fill(1);
    constraint.maskLogits(logits);
    for (const name of ['[gMASK]', '<sop>', '<|assistant|>', '<|system|>', '[MASK]'] as const) {
      expect(logits[special[name]]).toBe(-Infinity);
    }
    for (const id of stopTokenIds) expect(logits[id]).toBe(1);
    expect(logits.subarray(built.size).every((value) => value === -Infinity)).toBe(true);
    // Free text is any UTF-8 without NUL: ASCII is allowed, a lone continuation byte is not.
    expect(logits.subarray(1, 128).every((value) => value === 1)).toBe(true);
    expect(logits[0]).toBe(-Infinity);
    expect(logits[0x80]).toBe(-Infinity);
    expect(constraint.isTerminated()).toBe(false);
    // A longer logits array than the vocabulary: the extra ids are masked too.
    const longer = new Float32Array(vocabSize + 40).fill(1);
    constraint.maskLogits(longer);
    expect(longer.subarray(built.size).every((value) => value === -Infinity)).toBe(true);
    constraint.dispose();
  });

  it('encodes non-special added tokens in the byte-level alphabet', async () => {
    const json = structuredClone(built.json);
    const id = built.size;
    json.added_tokens.push({ ...json.added_tokens[0]!, id, content: 'złoty', special: false });
    const local = await GrammarCompiler.fromTokenizerJson(json, { vocabSize, stopTokenIds });
    const schema = z.object({ currency: z.literal('złoty') });
    const good = await local.createConstraint({ schema });
    expect(acceptsAll(good, [...bytes('{"currency": "'), id, ...bytes('"}')])).toBe(true);
    const bad = await local.createConstraint({ schema });
    expect(acceptsAll(bad, [...bytes('{"currency": '), id])).toBe(false);
    // Constraints made before dispose() keep working; the compiler does not.
    const kept = await local.createConstraint({ schema });
    local.dispose();
    expect(acceptsAll(kept, [...bytes('{"currency": "'), id, ...bytes('"}')])).toBe(true);
    await expect(local.createConstraint({ schema })).rejects.toThrow(/dispose/);
  });

  it('evicts the least recently used grammar beyond maxCachedGrammars', async () => {
    const local = await GrammarCompiler.fromTokenizerJson(built.json, { vocabSize, stopTokenIds, maxCachedGrammars: 2 });
    const schemas = [z.string(), z.boolean(), z.null()];
    for (const schema of schemas) (await local.createConstraint({ schema })).dispose();
    expect(local.statistics).toEqual({ compilations: 3, cacheHits: 0, cachedGrammars: 2 });
    (await local.createConstraint({ schema: schemas[2]! })).dispose();
    expect(local.statistics.compilations).toBe(3);
    (await local.createConstraint({ schema: schemas[0]! })).dispose();
    expect(local.statistics.compilations).toBe(4);
    local.dispose();
  });

  it('rejects misuse with typed errors that say what to fix', async () => {
    const create = (options: { vocabSize: number; stopTokenIds: number[] }, json: unknown = built.json) =>
      GrammarCompiler.fromTokenizerJson(json as object, options);
    await expect(create({ vocabSize: 100, stopTokenIds: [1] })).rejects.toThrow(TokenizerError);
    await expect(create({ vocabSize: 100, stopTokenIds: [1] })).rejects.toThrow(/vocabSize/);
    await expect(create({ vocabSize, stopTokenIds: [] })).rejects.toThrow(GenerationError);
    await expect(create({ vocabSize, stopTokenIds: [vocabSize + 1] })).rejects.toThrow(/stop token id/);
    await expect(create({ vocabSize, stopTokenIds: [built.size + 1] })).rejects.toThrow(/not tokens/);
    await expect(create({ vocabSize, stopTokenIds }, '{"nope": 1')).rejects.toThrow(TokenizerError);
    await expect(create({ vocabSize, stopTokenIds }, { model: {} })).rejects.toThrow(/model\.vocab/);
    await expect(compiler.createConstraint({})).rejects.toThrow(/schema.*tools/);
    const tool = { name: 'a', description: '', parameters: { type: 'object' } };
    await expect(compiler.createConstraint({ tools: [tool, tool] })).rejects.toThrow(/twice/);
    await expect(compiler.createConstraint({ tools: [{ ...tool, name: 'a\nb' }] })).rejects.toThrow(/dotted identifier/);
    await expect(compiler.createConstraint({ schema: z.date() })).rejects.toThrow(/JSON Schema/);
    const error = await compiler.createConstraint({ schema: z.object({ at: z.date() }) }).catch((caught) => caught);
    expect(AutoglmError.isInstance(error)).toBe(true);
    // XGrammar's own reason reaches the message, and the compiler keeps working after XGrammar aborted.
    await expect(compiler.createConstraint({ schema: { type: 'foo' } })).rejects.toThrow(/Unsupported type "foo"/);
    await expect(compiler.createConstraint({ schema: { type: 'string', pattern: '([a-' } })).rejects.toThrow(/Regex/);
    await expect(compiler.createConstraint({ schema: { $ref: '#/$defs/missing' } })).rejects.toThrow(GenerationError);
    const constraint = await compiler.createConstraint({ schema: z.string() });
    expect(acceptsAll(await compiler.createConstraint({ schema: z.string() }), bytes('"ok"'))).toBe(true);
    expect(() => constraint.rollback(1)).toThrow(/rollback/);
    expect(constraint.acceptToken(-1)).toBe(false);
    expect(constraint.acceptToken(1.5)).toBe(false);
    constraint.dispose();
    constraint.dispose();
    expect(() => constraint.isTerminated()).toThrow(GenerationError);
    expect(() => constraint.maskLogits(new Float32Array(vocabSize))).toThrow(/dispose/);
  });
});
