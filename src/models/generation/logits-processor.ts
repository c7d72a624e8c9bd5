/**
 * One stage of the logits pipeline run before sampling (repetition penalty, a grammar mask, ...). Stages work in
 * place on the step's logits buffer and must not allocate per step.
 */
export interface LogitsProcessor {
  /** Adjusts `logits` (one row, vocabulary-sized) in place. */
  process(logits: Float32Array): void;
  /** Called with every token that enters the sequence (prompt tokens first, then each generated token). */
  observe?(tokenId: number): void;
}
