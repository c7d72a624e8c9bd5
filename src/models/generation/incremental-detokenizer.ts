/** Decodes token ids to text; must treat the ids as one sequence (byte-level BPE merges bytes across ids). */
export type DecodeFunction = (ids: readonly number[]) => string;

/** Window of earlier tokens decoded together with the new ones, so that merges and spaces at the seam are right. */
const CONTEXT_TOKENS = 6;

/**
 * Turns token ids into text one token at a time without ever emitting half a multi-byte character: a byte-level
 * tokenizer decodes an incomplete UTF-8 sequence to U+FFFD, so text ending in U+FFFD waits for the next token.
 * Each step decodes only a small window (a few earlier tokens plus the unreleased ones), never the whole output.
 */
export class IncrementalDetokenizer {
  readonly #decode: DecodeFunction;
  readonly #ids: number[] = [];
  /** Start of the window decoded for context. */
  #prefixOffset = 0;
  /** First token whose text has not been released yet. */
  #readOffset = 0;

  constructor(decode: DecodeFunction) {
    this.#decode = decode;
  }

  /** Adds a token; returns the text that became final (possibly empty). */
  push(id: number): string {
    this.#ids.push(id);
    const prefixText = this.#readOffset > this.#prefixOffset ? this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset)) : '';
    const fullText = this.#decode(this.#ids.slice(this.#prefixOffset));
    if (fullText.length <= prefixText.length || fullText.endsWith('\uFFFD') || !fullText.startsWith(prefixText)) {
      return '';
    }
    const text = fullText.slice(prefixText.length);
    this.#readOffset = this.#ids.length;
    this.#prefixOffset = Math.max(0, this.#readOffset - CONTEXT_TOKENS);
    return text;
  }

  /** Text of the unreleased tokens at the end of generation (may contain U+FFFD for a truly incomplete character). */
  flush(): string {
    if (this.#readOffset === this.#ids.length) return '';
    const prefixText = this.#readOffset > this.#prefixOffset ? this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset)) : '';
    const fullText = this.#decode(this.#ids.slice(this.#prefixOffset));
    this.#readOffset = this.#ids.length;
    return fullText.startsWith(prefixText) ? fullText.slice(prefixText.length) : fullText;
  }
}
