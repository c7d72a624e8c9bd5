/**
 * A grammar that restricts which token may come next. The generation loop calls `maskLogits` before sampling and
 * `acceptToken` after; implemented over XGrammar in models/constraints.
 */
export interface TokenConstraint {
  /** Set, in place, the logits of every token the grammar does not allow now to -Infinity. */
  maskLogits(logits: Float32Array): void;
  /** Advance the grammar by the sampled token. Returns false if the grammar did not allow it. */
  acceptToken(tokenId: number): boolean;
  /** True once the grammar is complete and only a stop token may follow. */
  isTerminated(): boolean;
  /**
   * The one token the grammar allows next, when it allows exactly one (a stop token never counts): jump-forward
   * decoding appends it without sampling. Undefined when several tokens (or only stop tokens) are allowed.
   * Optional: a constraint without it is decoded token by token.
   */
  forcedToken?(): number | undefined;
  /**
   * The text every continuation the grammar allows starts with ('' when none is forced): a key and its `": "`,
   * the rest of an enum value. Several tokenizations may spell it, so it is a draft to verify, not forced tokens.
   * Optional.
   */
  forcedText?(): string;
  /** Undo the last `count` accepted tokens. */
  rollback(count: number): void;
  /** Release the matcher's WebAssembly memory. */
  dispose(): void;
}
