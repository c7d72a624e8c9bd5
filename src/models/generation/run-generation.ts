/**
 * The generation loop: prefill (the part of the prompt the prefix cache does not hold), then one token a step,
 * each step through the pipeline logits processors (built-in, then the caller's) -> constraint mask -> sampler -> stop criteria -> streamer.
 */
import { GenerationError } from '../../errors';
import type { TokenPrefixCache } from '../kv-cache';
import type { DecodingUsage, FinishReason, GenerateResult, GenerationEvent, LogitsProcessor as UserLogitsProcessor, ModelInfo } from '../language-model';
import { DraftVerifier } from './draft-verifier';
import { IncrementalDetokenizer, type DecodeFunction } from './incremental-detokenizer';
import type { LogitsProcessor } from './logits-processor';
import { RepetitionPenalty } from './repetition-penalty';
import type { ResolvedDraftOptions } from './resolve-draft-options';
import { StopStringDetector } from './stop-string-detector';
import type { TokenConstraint } from './token-constraint';
import { TokenSampler } from './token-sampler';

/** Generation settings after defaults and validation. */
export interface ResolvedGenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number | undefined;
  stop: readonly string[];
  signal: AbortSignal | undefined;
  prefixCache: boolean;
  /** The caller's logits processors, run after the built-in ones and before the constraint mask. */
  logitsProcessors: readonly UserLogitsProcessor[];
  /** Append the tokens a constraint forces without sampling (only with a constraint that reports them). */
  jumpForward: boolean;
  /** Draft verification, when on. */
  draft: ResolvedDraftOptions | undefined;
}

/** A graph as the loop uses it: CausalLmGraph on this thread, or WorkerGraph in front of a worker thread's. */
export interface ForwardGraph<Cache extends TokenPrefixCache> {
  readonly info: ModelInfo;
  /**
   * Runs `ids` after the cache's contents, appends them to it, and returns the last position's logits, or with
   * `rows` the last `rows` positions' one after another (the caller may modify them until the next call).
   */
  forward(ids: readonly number[], cache: Cache, options?: { rows?: number }): Promise<Float32Array>;
}

export interface RunGenerationOptions<Cache extends TokenPrefixCache = TokenPrefixCache> {
  graph: ForwardGraph<Cache>;
  cache: Cache;
  promptIds: readonly number[];
  settings: ResolvedGenerateOptions;
  eosTokenIds: readonly number[];
  decode: DecodeFunction;
  /** Token ids of plain text (no special tokens), for drafts of the grammar's forced text. Defaults to no such drafts. */
  encode?: (text: string) => number[];
  /** Grammar restricting the output, already created for this generation; disposed by the loop. */
  constraint?: TokenConstraint;
  /** Time origin of the call (performance.now()), for time to first token. */
  startedAt: number;
  /**
   * Longest run of prompt tokens per forward. The signal is checked between chunks, so an abort cuts a prefill
   * short within one chunk. Defaults to the whole prompt in one forward.
   */
  prefillChunkSize?: number;
}

/**
 * Largest prefill chunk of a request that brings an AbortSignal (GlmModel splits a larger `prefillChunkSize` to
 * this): the chunk is the unit an abort waits for, one `session.run` cannot be interrupted.
 */
export const ABORTABLE_PREFILL_CHUNK_SIZE = 512;

export async function* runGeneration<Cache extends TokenPrefixCache>(options: RunGenerationOptions<Cache>): AsyncGenerator<GenerationEvent, void, undefined> {
  const { graph, cache, promptIds, settings, constraint } = options;
  const { vocabSize, contextLength } = graph.info;
  try {
    const promptTokens = promptIds.length;
    if (promptTokens === 0) throw new GenerationError('The prompt is empty: give at least one token of input.');
    if (promptTokens >= contextLength) {
      throw new GenerationError(
        `The prompt has ${promptTokens} tokens, the model's context holds ${contextLength} (with room for at least one new token). Shorten the prompt.`,
        { details: { promptTokens, contextLength } },
      );
    }
    const maxNewTokens = Math.min(settings.maxNewTokens, contextLength - promptTokens);

    const processors: LogitsProcessor[] = [];
    if (settings.repetitionPenalty !== 1) processors.push(new RepetitionPenalty({ penalty: settings.repetitionPenalty, vocabSize }));
    for (const processor of processors) for (const id of promptIds) processor.observe?.(id);
    const sampler = new TokenSampler({
      vocabSize,
      temperature: settings.temperature,
      topK: settings.topK,
      topP: settings.topP,
      ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    });
    const eos = new Set(options.eosTokenIds);
    const detokenizer = new IncrementalDetokenizer(options.decode);
    const stopDetector = new StopStringDetector(settings.stop);

    const tokenIds: number[] = [];
    let text = '';
    let finishReason: FinishReason | undefined;
    let prefillMs = 0;
    let timeToFirstTokenMs = 0;
    let firstTokenAt = 0;
    let prefillTokens = 0;
    let cachedTokens = 0;
    const decoding: DecodingUsage = { forwards: 0, forcedTokens: 0, draftTokens: 0, acceptedDraftTokens: 0 };
    const jumpForward = settings.jumpForward && constraint?.forcedToken !== undefined;
    const verifier = settings.draft === undefined ? undefined : new DraftVerifier(sampler);

    /** Appends one chosen token: the token event to yield, with finishReason set when it ends the generation. */
    const emit = (id: number): GenerationEvent => {
      if (tokenIds.length === 0) {
        firstTokenAt = performance.now();
        timeToFirstTokenMs = firstTokenAt - options.startedAt;
      }
      tokenIds.push(id);
      for (const processor of processors) processor.observe?.(id);
      if (constraint && !constraint.acceptToken(id) && !eos.has(id)) {
        throw new GenerationError(`The grammar constraint rejected token ${id}, which its own mask allowed.`, { details: { tokenId: id } });
      }
      let piece = '';
      if (eos.has(id)) {
        finishReason = 'stop';
      } else {
        const released = stopDetector.push(detokenizer.push(id));
        piece = released.text;
        if (released.stopped) finishReason = 'stop';
        else if (constraint?.isTerminated()) finishReason = 'stop';
        else if (tokenIds.length >= maxNewTokens) finishReason = 'length';
      }
      if (finishReason !== undefined && !stopDetector.stopped) {
        piece += stopDetector.push(detokenizer.flush()).text;
        if (!stopDetector.stopped) piece += stopDetector.flush();
      }
      text += piece;
      return { type: 'token', id, text: piece };
    };
    /** After a token's event: true when it ended the generation, or an abort came meanwhile (as token by token). */
    const ended = (): boolean => {
      if (finishReason === undefined && settings.signal?.aborted) finishReason = 'abort';
      return finishReason !== undefined;
    };

    if (!settings.signal?.aborted) {
      // Always run at least the last prompt token: its logits give the first new token.
      cachedTokens = settings.prefixCache ? Math.min(cache.commonPrefixLength(promptIds), promptTokens - 1) : 0;
      cache.truncate(cachedTokens);
      prefillTokens = promptTokens - cachedTokens;
      const prefillStart = performance.now();
      let rows = await prefill(graph, cache, promptIds.slice(cachedTokens), options.prefillChunkSize ?? promptTokens, settings.signal);
      prefillMs = performance.now() - prefillStart;
      /** Draft tokens the last forward ran after the fed ones: rows[j] holds the logits after the j-th of them. */
      let drafts: readonly number[] = [];
      // Tokens chosen but not yet run through the model (a rejected draft's replacement, forced tokens, ...): the
      // last ones of tokenIds.
      let feed: number[] = [];

      decode: while (rows !== undefined) {
        feed = [];
        for (let j = 0; j <= drafts.length; j++) {
          const row = drafts.length === 0 ? rows : rows.subarray(j * vocabSize, (j + 1) * vocabSize);
          for (const processor of processors) processor.process(row);
          for (const processor of settings.logitsProcessors) processor(row, tokenIds);
          constraint?.maskLogits(row);
          const draft = drafts[j];
          const id = draft === undefined || verifier === undefined ? sampler.sample(row) : verifier.verify(row, draft);
          const accepted = draft !== undefined && id === draft;
          if (accepted) decoding.acceptedDraftTokens++;
          else feed.push(id);
          yield emit(id);
          if (ended()) break decode;
          let forced = false;
          if (jumpForward) {
            for (let next = constraint!.forcedToken!(); next !== undefined; next = constraint!.forcedToken!()) {
              // Token by token, the sampler would have drawn once from a row with one candidate.
              sampler.skipDraw();
              decoding.forcedTokens++;
              forced = true;
              feed.push(next);
              yield emit(next);
              if (ended()) break decode;
            }
          }
          if (!accepted || forced) {
            // The drafts after this position were run on a different sequence: drop their keys and values.
            const unverified = drafts.length - j - (accepted ? 1 : 0);
            if (unverified > 0) cache.truncate(cache.length - unverified);
            break;
          }
        }
        drafts = settings.draft === undefined ? [] : proposeDrafts(settings.draft, { promptIds, generatedIds: tokenIds, maxNewTokens, vocabSize, constraint, encode: options.encode });
        decoding.draftTokens += drafts.length;
        decoding.forwards++;
        rows = await forwardUnlessAborted(graph, drafts.length === 0 ? feed : [...feed, ...drafts], cache, settings.signal, drafts.length === 0 ? undefined : { rows: drafts.length + 1 });
        feed = [];
        if (rows === undefined || settings.signal?.aborted) {
          finishReason = 'abort';
          break;
        }
      }
      if (rows !== undefined) await settleCache(graph, cache, promptTokens + tokenIds.length, feed, finishReason, decoding);
    }
    finishReason ??= 'abort';

    const endedAt = performance.now();
    const decodeMs = tokenIds.length > 0 ? endedAt - firstTokenAt : 0;
    const result: GenerateResult = {
      text,
      tokenIds,
      finishReason,
      usage: {
        promptTokens,
        completionTokens: tokenIds.length,
        prefillTokens,
        cachedTokens,
        // Reported where it can differ from one forward per token: constrained or drafted generations.
        ...(constraint !== undefined || settings.draft !== undefined ? { decoding } : {}),
      },
      timings: {
        prefillMs,
        timeToFirstTokenMs,
        decodeMs,
        decodeTokensPerSecond: tokenIds.length > 1 && decodeMs > 0 ? ((tokenIds.length - 1) * 1000) / decodeMs : 0,
        totalMs: endedAt - options.startedAt,
      },
    };
    yield { type: 'end', ...result };
  } catch (error) {
    // A failed step may leave the cache between states: start the next request cold.
    cache.clear();
    throw error;
  } finally {
    constraint?.dispose();
  }
}

/**
 * The drafter's proposal for the next forward, cut to what the step may verify: the generation's remaining budget
 * after the token fed with it (so the cache never holds more than token-by-token decoding would) and maxTokens.
 */
function proposeDrafts(
  draft: ResolvedDraftOptions,
  step: {
    promptIds: readonly number[];
    generatedIds: readonly number[];
    maxNewTokens: number;
    vocabSize: number;
    constraint: TokenConstraint | undefined;
    encode: ((text: string) => number[]) | undefined;
  },
): readonly number[] {
  const { promptIds, generatedIds } = step;
  const limit = Math.min(draft.maxTokens, step.maxNewTokens - generatedIds.length - 1);
  if (limit <= 0) return [];
  if (draft.drafter === 'grammar') {
    const text = step.constraint?.forcedText?.() ?? '';
    return text === '' || step.encode === undefined ? [] : step.encode(text).slice(0, limit);
  }
  const proposed = draft.drafter.propose({ promptIds, generatedIds, maxTokens: limit });
  if (!Array.isArray(proposed) || proposed.some((id) => !Number.isInteger(id) || id < 0 || id >= step.vocabSize)) {
    throw new GenerationError(`The drafter returned something other than an array of token ids (integers in [0, ${step.vocabSize})): ${String(proposed).slice(0, 80)}.`, {
      details: { field: 'draft.drafter' },
    });
  }
  return proposed.length > limit ? proposed.slice(0, limit) : proposed;
}

/**
 * Leaves the cache as token-by-token decoding does, for the prefix cache of the next request (an agent's next step
 * expects to reuse every token but the last): drafts run but not emitted are dropped, and tokens emitted without a
 * forward (a forced run the generation ended in) are run, all but the last, in one forward. Not after an abort,
 * which must not wait for a forward (the cache then holds a shorter, still valid prefix).
 */
async function settleCache<Cache extends TokenPrefixCache>(
  graph: ForwardGraph<Cache>,
  cache: Cache,
  sequenceLength: number,
  feed: readonly number[],
  finishReason: FinishReason | undefined,
  decoding: DecodingUsage,
): Promise<void> {
  cache.truncate(sequenceLength - feed.length);
  if (feed.length < 2 || finishReason === 'abort' || cache.length !== sequenceLength - feed.length) return;
  decoding.forwards++;
  await graph.forward(feed.slice(0, -1), cache);
}

/** The end event of a generation aborted before it reached the graph (while waiting for its turn). */
export function abortedBeforeStart(promptTokens: number, startedAt: number): GenerationEvent {
  return {
    type: 'end',
    text: '',
    tokenIds: [],
    finishReason: 'abort',
    usage: { promptTokens, completionTokens: 0, prefillTokens: 0, cachedTokens: 0 },
    timings: { prefillMs: 0, timeToFirstTokenMs: 0, decodeMs: 0, decodeTokensPerSecond: 0, totalMs: performance.now() - startedAt },
  };
}

/**
 * Runs the prompt's new ids chunk by chunk; returns the last position's logits, or undefined when `signal` aborted
 * between chunks or after the last one (the cache then holds the chunks that ran: a valid prefix of the prompt).
 */
async function prefill<Cache extends TokenPrefixCache>(
  graph: ForwardGraph<Cache>,
  cache: Cache,
  ids: readonly number[],
  chunk: number,
  signal: AbortSignal | undefined,
): Promise<Float32Array | undefined> {
  let logits: Float32Array | undefined;
  for (let start = 0; start < ids.length; start += chunk) {
    // A turn of the event loop's timers phase between chunks: on the calling thread a forward may settle without
    // one, and the timer, socket or dispose() that aborts would only run after the whole prefill (about 1 ms a chunk).
    if (start > 0) await new Promise((resolve) => setTimeout(resolve, 0));
    if (signal?.aborted) return undefined;
    logits = await forwardUnlessAborted(graph, chunk >= ids.length ? ids : ids.slice(start, start + chunk), cache, signal);
  }
  return signal?.aborted ? undefined : logits;
}

/**
 * One forward; undefined when it was refused because the generation was aborted meanwhile (a batched step the
 * model's dispose() cancelled before it ran: the cache did not change).
 */
async function forwardUnlessAborted<Cache extends TokenPrefixCache>(
  graph: ForwardGraph<Cache>,
  ids: readonly number[],
  cache: Cache,
  signal: AbortSignal | undefined,
  options?: { rows?: number },
): Promise<Float32Array | undefined> {
  try {
    return await (options === undefined ? graph.forward(ids, cache) : graph.forward(ids, cache, options));
  } catch (error) {
    if (!signal?.aborted) throw error;
    cache.clear();
    return undefined;
  }
}
