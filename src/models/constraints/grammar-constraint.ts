/**
 * A TokenConstraint over one XGrammar GrammarMatcher: a fresh one per generation, made by GrammarCompiler.
 */
import { GenerationError } from '../../errors';
import type { TokenConstraint } from '../generation/token-constraint';
import type { StringBoundState, StringBoundTracker, StringLengthMasks } from './string-bound-tracker';
import type { Utf8TokenMasks } from './utf8-token-masks';
import type { XGrammarBinding, XGrammarMatcherHandle } from './xgrammar-loader';

export interface GrammarConstraintOptions {
  matcher: XGrammarMatcherHandle;
  binding: XGrammarBinding;
  /** Size of the logits (the model's vocabulary, padding included). */
  vocabSize: number;
  /** Stop token ids of the model. */
  stopTokenIds: readonly number[];
  /** Masks tokens that would make the output invalid UTF-8 (XGrammar lets some through). Defaults to none. */
  utf8Masks?: Utf8TokenMasks;
  /** Maximum lengths of strings enforced on the tokens (see bounded-strings.ts). Defaults to none. */
  stringBounds?: { tracker: StringBoundTracker; masks: StringLengthMasks };
}

export class GrammarConstraint implements TokenConstraint {
  #matcher: XGrammarMatcherHandle | undefined;
  readonly #binding: XGrammarBinding;
  readonly #vocabSize: number;
  /** The allowed-token bitmask of the current state (bit set = allowed), reused for every step. */
  readonly #bitmask: Int32Array;
  /** Bits of the stop tokens. */
  readonly #stopBits: Int32Array;
  #bitmaskCurrent = false;
  #onlyStopAllowed = false;
  #acceptedCount = 0;
  readonly #utf8Masks: Utf8TokenMasks | undefined;
  /** UTF-8 decoder state after each accepted token (index 0: before any), for rollback. */
  readonly #utf8States: number[] = [0];
  readonly #stringBounds: GrammarConstraintOptions['stringBounds'];
  /** String-bound tracker state after each accepted token (index 0: before any), for rollback. */
  readonly #boundStates: StringBoundState[] = [];

  constructor(options: GrammarConstraintOptions) {
    this.#matcher = options.matcher;
    this.#binding = options.binding;
    this.#vocabSize = options.vocabSize;
    this.#utf8Masks = options.utf8Masks;
    this.#stringBounds = options.stringBounds;
    if (this.#stringBounds) this.#boundStates.push(this.#stringBounds.tracker.initial());
    const words = Math.ceil(options.vocabSize / 32);
    this.#bitmask = new Int32Array(words);
    this.#stopBits = new Int32Array(words);
    for (const id of options.stopTokenIds) this.#stopBits[id >>> 5] |= 1 << (id & 31);
  }

  maskLogits(logits: Float32Array): void {
    this.#live();
    const bitmask = this.#currentBitmask();
    const length = logits.length;
    const limit = Math.min(length, this.#vocabSize);
    const words = Math.ceil(limit / 32);
    let word = 0;
    while (word < words) {
      const bits = bitmask[word]!;
      if (bits === -1) {
        word++;
      } else if (bits === 0) {
        // Constrained states allow few tokens: most words are empty, so mask whole runs of them with one fill.
        const start = word;
        while (word < words && bitmask[word] === 0) word++;
        logits.fill(-Infinity, start << 5, Math.min(word << 5, limit));
      } else {
        const base = word << 5;
        const end = Math.min(32, limit - base);
        for (let bit = 0; bit < end; bit++) {
          if (((bits >>> bit) & 1) === 0) logits[base + bit] = -Infinity;
        }
        word++;
      }
    }
    // Ids the grammar does not know (logits longer than vocabSize, or the last word's spare bits) are never valid.
    if (length > limit) logits.fill(-Infinity, limit);
  }

  acceptToken(tokenId: number): boolean {
    const matcher = this.#live();
    if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= this.#vocabSize) return false;
    if (this.#stringBounds) {
      // The grammar no longer knows these maxima: a token that would overrun one is refused here.
      const state = this.#boundStates.at(-1)!;
      if (state.inString && state.remaining >= 0 && !this.#stringBounds.masks.fits(tokenId, state.remaining)) return false;
      if (this.#stringBounds.tracker.advance(state, this.#stringBounds.masks.tokenBytes[tokenId]).overflow) return false;
    }
    const accepted = matcher.AcceptToken(tokenId, false);
    if (accepted) {
      if (this.#utf8Masks) this.#utf8States.push(this.#utf8Masks.next(this.#utf8States.at(-1)!, tokenId));
      if (this.#stringBounds) {
        const { tracker, masks } = this.#stringBounds;
        this.#boundStates.push(tracker.advance(this.#boundStates.at(-1)!, masks.tokenBytes[tokenId]));
      }
      this.#acceptedCount++;
      this.#bitmaskCurrent = false;
    }
    return accepted;
  }

  isTerminated(): boolean {
    if (this.#live().IsTerminated()) return true;
    return this.#onlyStopAllowedNow();
  }

  #onlyStopAllowedNow(): boolean {
    this.#currentBitmask();
    return this.#onlyStopAllowed;
  }

  forcedToken(): number | undefined {
    this.#live();
    if (this.#onlyStopAllowedNow()) return undefined;
    // The same bitmask maskLogits applies (UTF-8 and string bounds included): one bit set means sampling has one choice.
    const bitmask = this.#bitmask;
    let found: number | undefined;
    for (let word = 0; word < bitmask.length; word++) {
      const bits = bitmask[word]!;
      if (bits === 0) continue;
      // More than one bit in this word, or a second word with bits: not forced.
      if ((bits & (bits - 1)) !== 0 || found !== undefined) return undefined;
      found = (word << 5) + (31 - Math.clz32(bits));
    }
    return found === undefined || found >= this.#vocabSize || (this.#stopBits[found >>> 5]! & (1 << (found & 31))) !== 0 ? undefined : found;
  }

  forcedText(): string {
    const matcher = this.#live();
    return matcher.IsTerminated() ? '' : matcher.FindJumpForwardString();
  }

  rollback(count: number): void {
    const matcher = this.#live();
    if (!Number.isInteger(count) || count < 0 || count > this.#acceptedCount) {
      throw new GenerationError(
        `TokenConstraint.rollback(${count}): expected an integer from 0 to ${this.#acceptedCount} ` +
          '(the number of tokens accepted so far).',
        { details: { count, accepted: this.#acceptedCount } },
      );
    }
    if (count === 0) return;
    matcher.Rollback(count);
    if (this.#utf8Masks) this.#utf8States.length -= count;
    if (this.#stringBounds) this.#boundStates.length -= count;
    this.#acceptedCount -= count;
    this.#bitmaskCurrent = false;
  }

  dispose(): void {
    this.#matcher?.delete();
    this.#matcher = undefined;
  }

  #live(): XGrammarMatcherHandle {
    if (this.#matcher === undefined) {
      throw new GenerationError('TokenConstraint used after dispose(); create a new one per generation.');
    }
    return this.#matcher;
  }

  /** The mask of the current state, fetched from WebAssembly once per state. */
  #currentBitmask(): Int32Array {
    if (this.#bitmaskCurrent) return this.#bitmask;
    const matcher = this.#live();
    if (matcher.IsTerminated()) {
      this.#bitmask.set(this.#stopBits);
    } else {
      const vector = matcher.GetNextTokenBitmask(this.#vocabSize);
      try {
        this.#bitmask.set(this.#binding.vecIntToView(vector));
      } finally {
        vector.delete();
      }
    }
    if (this.#utf8Masks) this.#applyUtf8Mask(this.#utf8Masks.mask(this.#utf8States.at(-1)!));
    if (this.#stringBounds) {
      const state = this.#boundStates.at(-1)!;
      // Always applied: a vocabulary has a token starting with `"`, the one that closes a full string.
      const lengthMask = state.inString && state.remaining >= 0 ? this.#stringBounds.masks.mask(state.remaining) : undefined;
      if (lengthMask) for (let word = 0; word < this.#bitmask.length; word++) this.#bitmask[word]! &= lengthMask[word]!;
      this.#maskOverflowingQuoteTokens(state);
    }
    let onlyStop = true;
    for (let word = 0; word < this.#bitmask.length; word++) {
      if ((this.#bitmask[word]! & ~this.#stopBits[word]!) !== 0) {
        onlyStop = false;
        break;
      }
    }
    this.#onlyStopAllowed = onlyStop;
    this.#bitmaskCurrent = true;
    return this.#bitmask;
  }

  /** Masks the allowed tokens with a quote inside that would overrun a bounded string (see StringLengthMasks). */
  #maskOverflowingQuoteTokens(state: StringBoundState): void {
    if (state.prefix === undefined && state.bounds === undefined) return;
    const { tracker, masks } = this.#stringBounds!;
    const bitmask = this.#bitmask;
    for (const id of masks.quoteTokens) {
      const bit = 1 << (id & 31);
      if ((bitmask[id >>> 5]! & bit) === 0) continue;
      if (tracker.advance(state, masks.tokenBytes[id]).overflow) bitmask[id >>> 5]! &= ~bit;
    }
  }

  /** AND the grammar's mask with the UTF-8 one, unless that leaves nothing (then the grammar alone decides). */
  #applyUtf8Mask(utf8: Int32Array): void {
    const bitmask = this.#bitmask;
    let any = 0;
    for (let word = 0; word < bitmask.length; word++) any |= bitmask[word]! & utf8[word]!;
    if (any === 0) return;
    for (let word = 0; word < bitmask.length; word++) bitmask[word]! &= utf8[word]!;
  }
}
