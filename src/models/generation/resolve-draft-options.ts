import { GenerationError } from '../../errors';
import { assertKnownNames } from '../../strict-options';
import type { DraftOptions } from '../language-model';
import type { Drafter } from './drafter';
import { PromptLookupDrafter } from './prompt-lookup-drafter';

/** Default of DraftOptions.maxTokens. */
export const DEFAULT_DRAFT_TOKENS = 4;
/** Upper bound of DraftOptions.maxTokens: a verify forward returns maxTokens + 1 rows of logits. */
export const MAX_DRAFT_TOKENS = 64;

/** Draft verification settings after defaults and validation. */
export interface ResolvedDraftOptions {
  /** 'grammar': the tokens of the constraint's forced text (see DraftOptions). */
  drafter: Drafter | 'grammar';
  maxTokens: number;
}

/** Validates GenerateOptions.draft (undefined: off). */
export function resolveDraftOptions(draft: DraftOptions | undefined): ResolvedDraftOptions | undefined {
  if (draft === undefined) return undefined;
  if (typeof draft !== 'object' || draft === null) throw invalid('draft', draft, "an object: { kind: 'prompt-lookup', maxTokens? } or { drafter, maxTokens? }");
  const maxTokens = draft.maxTokens ?? DEFAULT_DRAFT_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_DRAFT_TOKENS) {
    throw invalid('draft.maxTokens', maxTokens, `an integer from 1 to ${MAX_DRAFT_TOKENS}`);
  }
  if ('drafter' in draft) {
    assertKnownNames(draft, ['drafter', 'maxTokens'], { where: 'generate options.draft', error: GenerationError });
    if (typeof draft.drafter?.propose !== 'function') throw invalid('draft.drafter', draft.drafter, 'an object with a propose(context) method');
    return { drafter: draft.drafter, maxTokens };
  }
  if (draft.kind === 'grammar') {
    assertKnownNames(draft, ['kind', 'maxTokens'], { where: 'generate options.draft', error: GenerationError });
    return { drafter: 'grammar', maxTokens };
  }
  assertKnownNames(draft, ['kind', 'maxTokens', 'maxNgram'], { where: 'generate options.draft', error: GenerationError });
  if (draft.kind !== 'prompt-lookup') throw invalid('draft.kind', (draft as { kind: unknown }).kind, "'prompt-lookup' or 'grammar' (or pass { drafter })");
  const maxNgram = draft.maxNgram ?? 3;
  if (!Number.isInteger(maxNgram) || maxNgram < 1 || maxNgram > 32) throw invalid('draft.maxNgram', maxNgram, 'an integer from 1 to 32');
  return { drafter: new PromptLookupDrafter({ maxNgram }), maxTokens };
}

function invalid(field: string, value: unknown, expected: string): GenerationError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new GenerationError(`Expected \`${field}\` to be ${expected}, got ${shown}.`, { details: { field } });
}
