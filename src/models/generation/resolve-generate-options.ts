import { GenerationError } from '../../errors';
import { assertKnownNames } from '../../strict-options';
import type { GenerateOptions } from '../language-model';
import type { GenerationDefaults } from '../model-config';
import { resolveDraftOptions } from './resolve-draft-options';
import type { ResolvedGenerateOptions } from './run-generation';

/** Default of `maxNewTokens`. */
export const DEFAULT_MAX_NEW_TOKENS = 256;

/** Every name GenerateOptions has; the `satisfies` keeps this list in step with the interface. */
export const generateOptionNames = Object.keys({
  maxNewTokens: true,
  temperature: true,
  topK: true,
  topP: true,
  repetitionPenalty: true,
  seed: true,
  stop: true,
  signal: true,
  schema: true,
  tools: true,
  toolChoice: true,
  constrained: true,
  prefixCache: true,
  logitsProcessors: true,
  jumpForward: true,
  draft: true,
} satisfies Record<keyof GenerateOptions, true>);

/** Applies defaults (the call's options, then generation_config.json, then the library's) and validates. */
export function resolveGenerateOptions(options: GenerateOptions, defaults: GenerationDefaults): ResolvedGenerateOptions {
  if (typeof options !== 'object' || options === null) {
    throw new GenerationError(`Expected generate options to be an object, got ${JSON.stringify(options) ?? String(options)}.`);
  }
  assertKnownNames(options, generateOptionNames, { where: 'generate options', error: GenerationError });
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw invalid('maxNewTokens', maxNewTokens, 'an integer >= 1');
  }
  const temperature = options.temperature ?? defaults.temperature ?? 0;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw invalid('temperature', temperature, 'a finite number >= 0');
  }
  // generation_config's top-k / top-p only apply when sampling was asked for.
  const sampling = temperature > 0;
  const topK = options.topK ?? (sampling ? defaults.topK : undefined) ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw invalid('topK', topK, 'an integer >= 0');
  const topP = options.topP ?? (sampling ? defaults.topP : undefined) ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw invalid('topP', topP, 'a number in (0, 1]');
  const repetitionPenalty = options.repetitionPenalty ?? defaults.repetitionPenalty ?? 1;
  if (typeof repetitionPenalty !== 'number' || !(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) {
    throw invalid('repetitionPenalty', repetitionPenalty, 'a finite number > 0');
  }
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed))) {
    throw invalid('seed', options.seed, 'a finite number');
  }
  const stop = options.stop ?? [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) throw invalid('stop', stop, 'an array of strings');
  const logitsProcessors = options.logitsProcessors ?? [];
  if (!Array.isArray(logitsProcessors) || logitsProcessors.some((processor) => typeof processor !== 'function')) {
    throw invalid('logitsProcessors', logitsProcessors, 'an array of functions (logits, generatedIds) => void');
  }
  if (options.toolChoice !== undefined && !['auto', 'none', 'required'].includes(options.toolChoice)) {
    throw invalid('toolChoice', options.toolChoice, "'auto', 'none' or 'required'");
  }
  if (options.jumpForward !== undefined && typeof options.jumpForward !== 'boolean') throw invalid('jumpForward', options.jumpForward, 'a boolean');
  return {
    maxNewTokens,
    temperature,
    topK,
    topP,
    repetitionPenalty,
    seed: options.seed,
    stop,
    signal: options.signal,
    prefixCache: options.prefixCache ?? true,
    logitsProcessors,
    jumpForward: options.jumpForward ?? logitsProcessors.length === 0,
    draft: resolveDraftOptions(options.draft),
  };
}

function invalid(field: string, value: unknown, expected: string): GenerationError {
  return new GenerationError(`Expected \`${field}\` to be ${expected}, got ${JSON.stringify(value) ?? String(value)}.`, {
    details: { field, value },
  });
}
