/**
 * Prompt lookup (Saxena 2023, the `prompt_lookup_num_tokens` of transformers): the last few tokens of the sequence
 * are searched for earlier in the prompt and the output, and the tokens that followed that earlier occurrence are
 * the draft. Summaries and extractions quote their document, so such n-grams recur; no draft model is needed.
 */
import type { DraftContext, Drafter } from './drafter';

export interface PromptLookupDrafterOptions {
  /** Longest n-gram matched (tried first). Defaults to 3. */
  maxNgram?: number;
  /** Shortest n-gram matched. Defaults to 1. */
  minNgram?: number;
}

export class PromptLookupDrafter implements Drafter {
  readonly maxNgram: number;
  readonly minNgram: number;

  constructor(options: PromptLookupDrafterOptions = {}) {
    this.maxNgram = options.maxNgram ?? 3;
    this.minNgram = options.minNgram ?? 1;
  }

  propose({ promptIds, generatedIds, maxTokens }: DraftContext): number[] {
    const length = promptIds.length + generatedIds.length;
    const at = (index: number): number => (index < promptIds.length ? promptIds[index]! : generatedIds[index - promptIds.length]!);
    for (let n = Math.min(this.maxNgram, length - 1); n >= this.minNgram; n--) {
      // The most recent earlier occurrence of the last n tokens: the nearest context is the likeliest to go on alike.
      for (let start = length - n - 1; start >= 0; start--) {
        let match = true;
        for (let i = 0; i < n && match; i++) match = at(start + i) === at(length - n + i);
        if (!match) continue;
        const from = start + n;
        const draft: number[] = [];
        for (let index = from; index < length && draft.length < maxTokens; index++) draft.push(at(index));
        if (draft.length > 0) return draft;
      }
    }
    return [];
  }
}
