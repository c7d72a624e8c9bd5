/**
 * Enforces the maximum length of the strings that bounded-strings.ts took out of the grammar: follows the JSON
 * being written (the grammar guarantees it is JSON in the compact layout), knows which schema path a string value
 * sits at, counts its characters, and masks the tokens that would put more characters before the closing quote
 * than the bound leaves.
 */
import { ANY_ITEM, pathKey, type StringBounds } from './bounded-strings';

interface Frame {
  array: boolean;
  /** Object: the current property name. */
  key: string | undefined;
  expectingKey: boolean;
}

/** Where the output is; immutable (each accepted token makes a new one, so rollback is popping a list). */
export interface StringBoundState {
  /** Tools mode: bytes of the line before the first `\n` (the tool name), still being read. */
  readonly prefix: number[] | undefined;
  /** Bounds of the JSON being written; undefined: nothing to enforce. */
  readonly bounds: StringBounds | undefined;
  readonly stack: readonly Frame[];
  readonly inString: boolean;
  readonly escape: boolean;
  /** The open string is a property name: its bytes. */
  readonly keyBytes: number[] | undefined;
  /** Characters the open string may still take; -1: unbounded. */
  readonly remaining: number;
  /** A bounded string got more characters than its maximum (the last token must be refused). */
  readonly overflow: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What the output is: JSON for one schema, or GLM tool calls (`name\n{json}`; the answer branch has name ''). */
export type StringBoundTarget = { schema: StringBounds } | { tools: Map<string, StringBounds> };

export class StringBoundTracker {
  readonly #target: StringBoundTarget;
  readonly #decoder = new TextDecoder();

  constructor(target: StringBoundTarget) {
    this.#target = target;
  }

  /** True when some string of the target is bounded (otherwise no tracking is needed). */
  static needed(target: StringBoundTarget): boolean {
    if ('schema' in target) return target.schema.size > 0;
    return [...target.tools.values()].some((bounds) => bounds.size > 0);
  }

  initial(): StringBoundState {
    const tools = 'tools' in this.#target;
    return {
      prefix: tools ? [] : undefined,
      bounds: tools ? undefined : (this.#target as { schema: StringBounds }).schema,
      stack: [],
      inString: false,
      escape: false,
      keyBytes: undefined,
      remaining: -1,
      overflow: false,
    };
  }

  /** A property name's text from its bytes between the quotes (JSON escapes resolved). */
  #propertyName(bytes: number[]): string {
    const raw = this.#decoder.decode(Uint8Array.from(bytes));
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw; // not a property of the schema then: no bound applies under it
    }
  }

  /** The state after `bytes` (one token's) in `state`. */
  advance(state: StringBoundState, bytes: Uint8Array | undefined): StringBoundState {
    if (bytes === undefined || bytes.length === 0) return state;
    let prefix = state.prefix ? [...state.prefix] : undefined;
    let bounds = state.bounds;
    if (prefix === undefined && bounds === undefined) return state;
    const stack = state.stack.map((frame) => ({ ...frame }));
    let { inString, escape, remaining, overflow } = state;
    let keyBytes = state.keyBytes ? [...state.keyBytes] : undefined;
    for (const byte of bytes) {
      if (prefix !== undefined) {
        if (byte !== 0x0a) {
          prefix.push(byte);
          continue;
        }
        const name = this.#decoder.decode(Uint8Array.from(prefix));
        prefix = undefined;
        const toolBounds = (this.#target as { tools: Map<string, StringBounds> }).tools.get(name);
        if (toolBounds === undefined || toolBounds.size === 0) return { ...state, prefix: undefined, bounds: undefined };
        bounds = toolBounds;
        continue;
      }
      const top = stack.at(-1);
      if (inString) {
        if (escape) escape = false;
        else if (byte === BACKSLASH) escape = true;
        else if (byte === QUOTE) {
          inString = false;
          if (keyBytes !== undefined) {
            top!.key = this.#propertyName(keyBytes);
            top!.expectingKey = false;
            keyBytes = undefined;
          }
          remaining = -1;
          continue;
        }
        if (keyBytes !== undefined) keyBytes.push(byte);
        else if (remaining >= 0 && (byte & 0xc0) !== 0x80) {
          if (remaining === 0) overflow = true;
          else remaining--;
        }
        continue;
      }
      if (byte === QUOTE) {
        inString = true;
        if (top !== undefined && !top.array && top.expectingKey) {
          keyBytes = [];
        } else {
          const path = stack.map((frame) => (frame.array ? ANY_ITEM : frame.key!));
          remaining = bounds!.get(pathKey(path)) ?? -1;
        }
      } else if (byte === 0x7b) stack.push({ array: false, key: undefined, expectingKey: true });
      else if (byte === 0x5b) stack.push({ array: true, key: undefined, expectingKey: false });
      else if (byte === 0x7d || byte === 0x5d) stack.pop();
      else if (byte === 0x2c && top !== undefined && !top.array) top.expectingKey = true;
    }
    return { prefix, bounds, stack, inString, escape, keyBytes, remaining, overflow };
  }
}

/** Per token, the characters it writes before a closing quote; and per budget, the tokens that fit in it. */
export class StringLengthMasks {
  readonly tokenBytes: ReadonlyArray<Uint8Array | undefined>;
  /** Characters (UTF-8 sequence starts) before the token's first `"`, or in all of it. */
  readonly #characters: Uint32Array;
  readonly #longest: number;
  /**
   * Tokens with a quote followed by more bytes: they may close a string and open the next one, or open one and
   * write into it, so the per-budget masks cannot judge them; each allowed one is run through the tracker.
   */
  readonly quoteTokens: Int32Array;
  readonly #words: number;
  readonly #masks = new Map<number, Int32Array>();

  constructor(tokenBytes: ReadonlyArray<Uint8Array | undefined>, vocabSize: number) {
    this.tokenBytes = tokenBytes;
    this.#words = Math.ceil(vocabSize / 32);
    this.#characters = new Uint32Array(tokenBytes.length);
    let longest = 0;
    for (let id = 0; id < tokenBytes.length; id++) {
      const bytes = tokenBytes[id];
      let count = 0;
      for (let index = 0; bytes !== undefined && index < bytes.length && bytes[index] !== QUOTE; index++) {
        if ((bytes[index]! & 0xc0) !== 0x80) count++;
      }
      this.#characters[id] = count;
      longest = Math.max(longest, count);
    }
    this.#longest = longest;
    const quoteTokens: number[] = [];
    tokenBytes.forEach((bytes, id) => {
      const quote = bytes === undefined ? -1 : bytes.indexOf(QUOTE);
      if (quote >= 0 && quote < bytes!.length - 1) quoteTokens.push(id);
    });
    this.quoteTokens = Int32Array.from(quoteTokens);
  }

  /** True when token `id` writes at most `remaining` characters before a quote. */
  fits(id: number, remaining: number): boolean {
    return id >= this.#characters.length || this.#characters[id]! <= remaining;
  }

  /** The tokens that write at most `remaining` characters before a quote; undefined when every token does. */
  mask(remaining: number): Int32Array | undefined {
    if (remaining >= this.#longest) return undefined;
    let mask = this.#masks.get(remaining);
    if (mask === undefined) {
      // Ids beyond the tokenizer (padding) stay allowed here: the grammar's mask excludes them.
      mask = new Int32Array(this.#words).fill(-1);
      for (let id = 0; id < this.#characters.length; id++) {
        if (this.#characters[id]! > remaining) mask[id >>> 5]! &= ~(1 << (id & 31));
      }
      this.#masks.set(remaining, mask);
    }
    return mask;
  }
}
