import { GenerationError } from '../../errors';
import type { LogitsProcessor } from './logits-processor';

/**
 * The CTRL / Hugging Face repetition penalty: every token already in the sequence (prompt included) has a positive
 * logit divided by `penalty` and a negative one multiplied by it. Work per step is proportional to the number of
 * distinct tokens seen, not to the vocabulary.
 */
export class RepetitionPenalty implements LogitsProcessor {
  readonly penalty: number;
  #seen: Uint8Array;
  #tokens: Int32Array;
  #count = 0;

  constructor(options: { penalty: number; vocabSize: number }) {
    if (!(options.penalty > 0) || !Number.isFinite(options.penalty)) {
      throw new GenerationError(`Expected \`repetitionPenalty\` to be a finite number > 0, got ${options.penalty}.`, {
        details: { field: 'repetitionPenalty', value: options.penalty },
      });
    }
    this.penalty = options.penalty;
    this.#seen = new Uint8Array(options.vocabSize);
    this.#tokens = new Int32Array(64);
  }

  observe(tokenId: number): void {
    if (tokenId < 0 || tokenId >= this.#seen.length || this.#seen[tokenId]) return;
    this.#seen[tokenId] = 1;
    if (this.#count === this.#tokens.length) {
      const grown = new Int32Array(this.#tokens.length * 2);
      grown.set(this.#tokens);
      this.#tokens = grown;
    }
    this.#tokens[this.#count++] = tokenId;
  }

  process(logits: Float32Array): void {
    const penalty = this.penalty;
    const tokens = this.#tokens;
    for (let i = 0; i < this.#count; i++) {
      const id = tokens[i];
      const value = logits[id];
      logits[id] = value > 0 ? value / penalty : value * penalty;
    }
  }
}
