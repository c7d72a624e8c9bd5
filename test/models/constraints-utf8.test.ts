import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import { Utf8TokenMasks, nextUtf8State } from '../../src/models/constraints/utf8-token-masks';
import { qwenTokenizer } from './constraints-helpers';
import { seededRandom } from '../../src/models/generation/random-generator';

// Byte-level BPE: every byte is one token, written in GPT-2's printable alphabet.
const byteCharacter: string[] = [];
{
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
    byteCharacter[byte] = String.fromCharCode(printable ? byte : next++);
  }
}

const vocabSize = 151936;
const stopTokenIds = [151643];
let compiler: GrammarCompiler;
let byteToken: (byte: number) => number;
let encode: (text: string) => number[];

beforeAll(async () => {
  const tokenizer = qwenTokenizer();
  const vocab = (tokenizer.json.model as { vocab: Record<string, number> }).vocab;
  byteToken = (byte) => vocab[byteCharacter[byte]!]!;
  encode = tokenizer.encode;
  compiler = await GrammarCompiler.fromTokenizerJson(tokenizer.json, { vocabSize, stopTokenIds });
}, 60_000);

const bounded = { type: 'object', properties: { a: { type: 'string', maxLength: 4 } }, required: ['a'] };
const unbounded = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };

function allowedAfter(constraint: Awaited<ReturnType<GrammarCompiler['createConstraint']>>, byte: number): boolean {
  const logits = new Float32Array(vocabSize);
  constraint.maskLogits(logits);
  return logits[byteToken(byte)] !== -Infinity;
}

describe('constrained output stays valid UTF-8', () => {
  it('the decoder states reject overlong forms, surrogates and code points beyond U+10FFFF', () => {
    const valid = (bytes: number[]) => bytes.reduce((state, byte) => (state < 0 ? state : nextUtf8State(state, byte)), 0) === 0;
    for (const bytes of [[0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0x9f, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf]]) {
      expect(valid(bytes)).toBe(true);
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))).not.toThrow();
    }
    for (const bytes of [[0xc1, 0xb1], [0xc0, 0x80], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf0, 0x80, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80]]) {
      expect(valid(bytes)).toBe(false);
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))).toThrow();
    }
  });

  it('masks the bytes XGrammar lets through inside a JSON string (it accepts them: the mask is what stops them)', async () => {
    const constraint = await compiler.createConstraint({ schema: unbounded });
    for (const id of encode('{"a": "')) expect(constraint.acceptToken(id)).toBe(true);
    expect(allowedAfter(constraint, 0xc3)).toBe(true);
    expect(allowedAfter(constraint, 0xc1)).toBe(false); // overlong 2-byte lead
    expect(allowedAfter(constraint, 0xf5)).toBe(false); // beyond U+10FFFF
    expect(allowedAfter(constraint, 0xf0)).toBe(true); // unbounded strings may hold emoji
    expect(constraint.acceptToken(byteToken(0xe0))).toBe(true);
    expect(allowedAfter(constraint, 0x80)).toBe(false); // E0 80: overlong 3-byte form
    expect(allowedAfter(constraint, 0xa0)).toBe(true);
    expect(allowedAfter(constraint, 0x22)).toBe(false); // a quote would cut the character
    constraint.rollback(1);
    expect(allowedAfter(constraint, 0x80)).toBe(false); // a stray continuation byte
    expect(constraint.acceptToken(byteToken(0xed))).toBe(true);
    expect(allowedAfter(constraint, 0xa0)).toBe(false); // ED A0: a surrogate
    expect(allowedAfter(constraint, 0x9f)).toBe(true);
    constraint.dispose();
  });

  it('strings under maxLength: no control characters, no characters zod counts twice, no cut characters', async () => {
    const constraint = await compiler.createConstraint({ schema: bounded });
    for (const id of encode('{"a": "')) expect(constraint.acceptToken(id)).toBe(true);
    expect(allowedAfter(constraint, 0x07)).toBe(false);
    expect(allowedAfter(constraint, 0xf0)).toBe(false);
    expect(allowedAfter(constraint, 0xc3)).toBe(true);
    expect(constraint.acceptToken(byteToken(0xc3))).toBe(true);
    expect(allowedAfter(constraint, 0x22)).toBe(false);
    constraint.dispose();
  });

  it('random walks through a schema with bounded and unbounded strings always decode and parse', async () => {
    const schema = z.object({ name: z.string().min(1).max(6), notes: z.array(z.string().max(3)).max(3), text: z.string() });
    const tokenizer = qwenTokenizer();
    let finished = 0;
    for (let seed = 0; seed < 30; seed++) {
      const constraint = await compiler.createConstraint({ schema });
      const random = seededRandom(seed);
      const ids: number[] = [];
      const logits = new Float32Array(vocabSize);
      for (let step = 0; step < 80; step++) {
        // Favour raw single bytes (ids below 256 are the byte tokens) so invalid sequences are tried often.
        for (let id = 0; id < vocabSize; id++) logits[id] = random() + (id < 256 ? 2 : 0) + (id === byteToken(0x22) ? 1.5 : 0);
        logits[stopTokenIds[0]!] = 5;
        constraint.maskLogits(logits);
        let best = 0;
        for (let id = 1; id < vocabSize; id++) if (logits[id]! > logits[best]!) best = id;
        expect(constraint.acceptToken(best)).toBe(true);
        if (best === stopTokenIds[0]) break;
        ids.push(best);
      }
      constraint.dispose();
      if (ids.length === 0) continue;
      const text = tokenizer.decode(ids);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        continue; // cut off by the step budget
      }
      finished++;
      expect(text).not.toContain('\uFFFD');
      expect(schema.safeParse(json).success).toBe(true);
    }
    expect(finished).toBeGreaterThan(10);
  }, 60_000);

  it('numbers: at most 16 fraction digits, so a number cannot run to the end of the token budget', async () => {
    const constraint = await compiler.createConstraint({ schema: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } });
    for (const id of encode('{"x": 1.')) expect(constraint.acceptToken(id)).toBe(true);
    for (let digit = 0; digit < 15; digit++) expect(constraint.acceptToken(byteToken(0x31))).toBe(true);
    expect(allowedAfter(constraint, 0x31)).toBe(true);
    expect(constraint.acceptToken(byteToken(0x31))).toBe(true);
    expect(allowedAfter(constraint, 0x31)).toBe(false);
    expect(allowedAfter(constraint, 0x7d)).toBe(true);
    constraint.dispose();
  });

  it('Utf8TokenMasks: a token that is a whole invalid sequence is never allowed', () => {
    const masks = new Utf8TokenMasks([Uint8Array.of(0x41), Uint8Array.of(0xc1, 0xb1), Uint8Array.of(0xc3), Uint8Array.of(0xa9), undefined], 64);
    const allowed = (state: number) => [0, 1, 2, 3, 4].filter((id) => (masks.mask(state)[0]! >>> id) & 1);
    expect(allowed(0)).toEqual([0, 2, 4]);
    const afterLead = masks.next(0, 2);
    expect(allowed(afterLead)).toEqual([3]);
    expect(masks.next(afterLead, 3)).toBe(0);
  });
});
