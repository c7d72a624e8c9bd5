/**
 * Strict option checking at every public boundary: an option, field or role name autoglm does not know is a typed
 * error naming it, the names allowed there, and the nearest one ("did you mean"). JavaScript callers and callers
 * coming from other libraries (`maxTokens`, `stopSequences`, `abortSignal`) would otherwise be ignored silently.
 */
import type { AutoglmError, AutoglmErrorOptions } from './errors';

/** Names other libraries use for our options (AI SDK, OpenAI, transformers.js, llama.cpp), mapped to ours. */
const foreignNames: Readonly<Record<string, string>> = {
  maxtokens: 'maxNewTokens',
  maxoutputtokens: 'maxNewTokens',
  maxcompletiontokens: 'maxNewTokens',
  npredict: 'maxNewTokens',
  stopsequences: 'stop',
  abortsignal: 'signal',
  responseformat: 'schema',
  jsonschema: 'schema',
  format: 'schema',
  frequencypenalty: 'repetitionPenalty',
  requireapproval: 'needsApproval',
  requiretoolapproval: 'needsApproval',
  tool: 'observation',
  function: 'observation',
  ipython: 'observation',
  developer: 'system',
  // autoglm's own former names (one name per concept).
  modelpath: 'model',
  fileroots: 'roots',
  thread: 'runIn',
  output: 'schema',
};

/** The error class of the boundary (GenerationError, AgentError, ...), so callers keep catching one class per layer. */
export type ErrorClass = new (message: string, options?: AutoglmErrorOptions) => AutoglmError;

export interface KnownNamesCheck {
  /** Where the names were given, as the caller wrote it: `GlmModel.load options`, `step "summarize" agent`. */
  where: string;
  /** What the names are, for the message: `option` (default), `field`, `role`, `input`, `flag`. */
  kind?: string;
  /** The error class to throw. */
  error: ErrorClass;
  /** Extra text after the allowed names, such as how to declare a new input. */
  hint?: string;
}

/** The nearest allowed name to `name` (a known foreign alias, a case/underscore variant, or a small edit), if any. */
export function didYouMean(name: string, allowed: readonly string[]): string | undefined {
  const folded = fold(name);
  const alias = foreignNames[folded];
  if (alias !== undefined && allowed.includes(alias)) return alias;
  const sameFolded = allowed.find((candidate) => fold(candidate) === folded);
  if (sameFolded !== undefined) return sameFolded;
  let best: string | undefined;
  // Short names allow one edit, longer ones a third of their length (a swapped pair of letters counts two).
  let bestDistance = (name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3))) + 1;
  for (const candidate of allowed) {
    const distance = editDistance(folded, fold(candidate), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The message for one unknown name: what, where, the allowed names and the nearest one. */
export function unknownNameMessage(name: string, allowed: readonly string[], check: KnownNamesCheck): string {
  const kind = check.kind ?? 'option';
  const suggestion = didYouMean(name, allowed);
  const list = allowed.length === 0 ? `no ${kind}s are accepted here` : `allowed: ${allowed.join(', ')}`;
  return `${check.where}: unknown ${kind} "${name}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; ${list}.${check.hint === undefined ? '' : ` ${check.hint}`}`;
}

/** The own enumerable names of `value` that `allowed` does not list (undefined-valued ones count: they were written). */
export function unknownNames(value: object, allowed: readonly string[]): string[] {
  return Object.keys(value).filter((key) => !allowed.includes(key));
}

/** Throws (one error listing every unknown name) when `value` has a name that `allowed` does not list. */
export function assertKnownNames(value: unknown, allowed: readonly string[], check: KnownNamesCheck): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const unknown = unknownNames(value, allowed);
  if (unknown.length === 0) return;
  const ErrorType = check.error;
  throw new ErrorType(unknown.map((name) => unknownNameMessage(name, allowed, check)).join(' '), {
    details: { where: check.where, unknown, allowed: [...allowed], suggestions: unknown.map((name) => didYouMean(name, allowed) ?? null) },
  });
}

/** Throws when `value` is not one of `allowed` (roles, enum-like options such as `executionProvider`). */
export function assertOneOf<T extends string>(value: unknown, allowed: readonly T[], check: KnownNamesCheck & { field: string }): asserts value is T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return;
  const ErrorType = check.error;
  const shown = typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
  const suggestion = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
  throw new ErrorType(
    `${check.where}: ${check.field} ${shown} is not supported${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; use one of ${allowed.join(', ')}.${check.hint === undefined ? '' : ` ${check.hint}`}`,
    { details: { where: check.where, field: check.field, value, allowed: [...allowed] } },
  );
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/** Levenshtein distance, stopping early once it reaches `limit` (the names compared are short). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return previous[b.length];
}
