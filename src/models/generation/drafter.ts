/**
 * Where draft tokens for speculative verification come from (GenerateOptions.draft). A drafter guesses the next
 * tokens cheaply; the model checks them all in one forward and keeps the prefix it agrees with, so a wrong guess
 * costs speed, never correctness.
 */

/** What a drafter sees at one step. */
export interface DraftContext {
  /** The prompt's token ids (the whole sequence before the first generated token). */
  readonly promptIds: readonly number[];
  /** The tokens generated so far in this call, the last one included. */
  readonly generatedIds: readonly number[];
  /** The most tokens the step can verify; more are ignored. */
  readonly maxTokens: number;
}

/**
 * Proposes the tokens it expects after `promptIds` + `generatedIds`, most likely first in order. Called once per
 * verification step, synchronously, on the generation's thread: keep it cheap (microseconds, not a model run).
 * Return an empty array to decode the next token alone. A drafter must be deterministic for seeded runs to
 * reproduce (the acceptance rule treats its proposal as a point mass).
 */
export interface Drafter {
  propose(context: DraftContext): readonly number[];
}
