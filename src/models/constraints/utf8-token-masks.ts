/**
 * Keeps constrained output valid UTF-8. XGrammar matches character classes on code points decoded from the token
 * bytes without rejecting overlong forms (C0/C1 leads, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) or code points
 * beyond U+10FFFF (F4 90.., F5..F7): a random or weak model then writes bytes that decode to U+FFFD, and a string
 * under `maxLength` grows past it. A grammar cannot exclude them (an overlong form decodes to an allowed code
 * point), so the tokens are masked instead: per UTF-8 decoder state, the tokens whose bytes would make the text
 * invalid.
 */
import type { VocabularyType } from './tokenizer-vocabulary';

/**
 * Decoder states: 0 = between characters; otherwise continuation bytes still expected and the range the next one
 * must fall in (the second byte after E0, ED, F0 and F4 is narrower, which is what rules out overlong forms,
 * surrogates and code points beyond U+10FFFF).
 */
const STATES: ReadonlyArray<{ remaining: number; low: number; high: number }> = [
  { remaining: 0, low: 0, high: 0 },
  { remaining: 1, low: 0x80, high: 0xbf },
  { remaining: 2, low: 0x80, high: 0xbf },
  { remaining: 2, low: 0xa0, high: 0xbf },
  { remaining: 2, low: 0x80, high: 0x9f },
  { remaining: 3, low: 0x80, high: 0xbf },
  { remaining: 3, low: 0x90, high: 0xbf },
  { remaining: 3, low: 0x80, high: 0x8f },
];

const INVALID = -1;

/** The state after `byte` in `state`, or INVALID. */
export function nextUtf8State(state: number, byte: number): number {
  if (state === 0) {
    if (byte < 0x80) return 0;
    if (byte >= 0xc2 && byte <= 0xdf) return 1;
    if (byte === 0xe0) return 3;
    if (byte === 0xed) return 4;
    if (byte >= 0xe1 && byte <= 0xef) return 2;
    if (byte === 0xf0) return 6;
    if (byte >= 0xf1 && byte <= 0xf3) return 5;
    if (byte === 0xf4) return 7;
    return INVALID;
  }
  const { remaining, low, high } = STATES[state]!;
  if (byte < low || byte > high) return INVALID;
  return remaining === 1 ? 0 : remaining === 2 ? 1 : 2;
}

/** Per decoder state, the tokens that keep the text valid UTF-8 (bit set = allowed), and each token's effect. */
export class Utf8TokenMasks {
  /** One bitmask (XGrammar's layout: 32 ids per word) per state. */
  readonly #masks: Int32Array[];
  /** transitions[state * size + id]: the state after the token, INVALID when it breaks UTF-8. */
  readonly #transitions: Int8Array;
  readonly #size: number;

  /**
   * `tokenBytes[id]`: the bytes the token decodes to; undefined for special tokens (allowed between characters).
   * `astral: false` also masks characters beyond the BMP (4-byte sequences).
   */
  constructor(tokenBytes: ReadonlyArray<Uint8Array | undefined>, vocabSize: number, options: { astral?: boolean } = {}) {
    const astral = options.astral ?? true;
    this.#size = tokenBytes.length;
    const words = Math.ceil(vocabSize / 32);
    this.#masks = STATES.map(() => new Int32Array(words));
    this.#transitions = new Int8Array(STATES.length * this.#size).fill(INVALID);
    for (let state = 0; state < STATES.length; state++) {
      const mask = this.#masks[state]!;
      for (let id = 0; id < this.#size; id++) {
        const bytes = tokenBytes[id];
        let current = bytes === undefined || bytes.length === 0 ? (state === 0 ? 0 : INVALID) : state;
        for (let index = 0; bytes !== undefined && index < bytes.length && current !== INVALID; index++) {
          current = nextUtf8State(current, bytes[index]!);
          if (!astral && current >= 5) current = INVALID;
        }
        this.#transitions[state * this.#size + id] = current;
        if (current !== INVALID) mask[id >>> 5]! |= 1 << (id & 31);
      }
    }
  }

  /** The bitmask of tokens allowed in `state`. */
  mask(state: number): Int32Array {
    return this.#masks[state]!;
  }

  /** The state after token `id` in `state`; a token that breaks UTF-8 (only if forced) restarts at state 0. */
  next(state: number, id: number): number {
    if (id >= this.#size) return state;
    const next = this.#transitions[state * this.#size + id]!;
    return next === INVALID ? 0 : next;
  }
}

/** The bytes of every token of an XGrammar-encoded vocabulary ('' = special: undefined). */
export function vocabularyBytes(encodedVocabulary: readonly string[], vocabularyType: VocabularyType): Array<Uint8Array | undefined> {
  const encoder = new TextEncoder();
  let byteOf: Map<string, number> | undefined;
  if (vocabularyType === 'byte_level') {
    byteOf = new Map();
    let next = 256;
    for (let byte = 0; byte < 256; byte++) {
      const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
      byteOf.set(String.fromCharCode(printable ? byte : next++), byte);
    }
  }
  return encodedVocabulary.map((piece) => {
    if (piece === '') return undefined;
    if (byteOf !== undefined) {
      const bytes = new Uint8Array(piece.length);
      let length = 0;
      for (const character of piece) {
        const byte = byteOf.get(character);
        // A character outside the byte alphabet: take its UTF-8 (what XGrammar does for such tokens).
        if (byte === undefined) return encoder.encode(piece);
        bytes[length++] = byte;
      }
      return bytes.subarray(0, length);
    }
    if (vocabularyType === 'byte_fallback') {
      const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      if (match) return Uint8Array.of(parseInt(match[1]!, 16));
      return encoder.encode(piece.replaceAll('\u2581', ' '));
    }
    return encoder.encode(piece);
  });
}
