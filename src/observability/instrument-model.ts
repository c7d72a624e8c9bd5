/**
 * A LanguageModel wrapper that records each generation as metrics (tokens, tokens/s, time to first token, queue
 * depth) and as an `autoglm.generation` span, without the model itself knowing about either.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import type { GenerateOptions, GenerateResult, GenerationEvent, LanguageModel, ModelInfo, ModelInput, ToolSpec } from '../models/language-model';
import type { Logger } from './logger';
import type { AutoglmMetrics } from './metrics';
import { autoglmTracer, definedAttributes, recordError } from './tracing';

export interface InstrumentModelOptions {
  /** Where the generation metrics go. Defaults to none (spans only). */
  metrics?: AutoglmMetrics;
  /** Logs each generation at debug level with a `model` field (the family) and its usage and timings. Defaults to none. */
  logger?: Logger;
}

/** Span attribute names shared by the adapters. */
export const spanAttributes = {
  runId: 'autoglm.run_id',
  stepId: 'autoglm.step_id',
  workflow: 'autoglm.workflow',
  tool: 'autoglm.tool',
  modelFamily: 'autoglm.model.family',
  promptTokens: 'autoglm.tokens.prompt',
  completionTokens: 'autoglm.tokens.completion',
  cachedTokens: 'autoglm.tokens.cached',
  finishReason: 'autoglm.finish_reason',
  status: 'autoglm.status',
  attempts: 'autoglm.attempts',
  errorCode: 'autoglm.error.code',
} as const;

/**
 * Wraps `model`: `generate` and `stream` are recorded, everything else is passed through. The wrapper does not own
 * the model; `dispose` disposes the wrapped model.
 */
export function instrumentModel(model: LanguageModel, options: InstrumentModelOptions = {}): LanguageModel {
  const metrics = options.metrics;
  const logger = options.logger?.child({ model: model.info.family });
  const family = () => model.info.family;

  const start = (input: ModelInput, generateOptions: GenerateOptions | undefined): Span => {
    metrics?.modelQueueDepth.inc({ family: family() });
    return autoglmTracer().startSpan(
      'autoglm.generation',
      {
        attributes: definedAttributes({
          [spanAttributes.modelFamily]: family(),
          'autoglm.max_new_tokens': generateOptions?.maxNewTokens,
          'autoglm.constrained': generateOptions?.schema !== undefined || (generateOptions?.tools?.length ?? 0) > 0 ? generateOptions?.constrained !== false : undefined,
          'autoglm.input.kind': typeof input === 'string' ? 'text' : input.length > 0 && typeof input[0] === 'number' ? 'token-ids' : 'messages',
        }),
      },
      context.active(),
    );
  };
  const succeed = (span: Span, result: GenerateResult) => {
    const labels = { family: family() };
    if (metrics !== undefined) {
      metrics.generations.inc({ ...labels, finish_reason: result.finishReason });
      metrics.tokensGenerated.inc(labels, result.usage.completionTokens);
      metrics.promptTokens.inc(labels, result.usage.promptTokens);
      if (result.usage.completionTokens > 0) metrics.timeToFirstToken.observe(labels, result.timings.timeToFirstTokenMs / 1000);
      if (result.usage.completionTokens > 1 && Number.isFinite(result.timings.decodeTokensPerSecond)) {
        metrics.tokensPerSecond.observe(labels, result.timings.decodeTokensPerSecond);
        metrics.lastTokensPerSecond.set(labels, result.timings.decodeTokensPerSecond);
      }
    }
    logger?.debug({ usage: result.usage, timings: result.timings, finishReason: result.finishReason }, 'generation');
    span.setAttributes({
      [spanAttributes.promptTokens]: result.usage.promptTokens,
      [spanAttributes.completionTokens]: result.usage.completionTokens,
      [spanAttributes.cachedTokens]: result.usage.cachedTokens,
      [spanAttributes.finishReason]: result.finishReason,
      'autoglm.time_to_first_token_ms': result.timings.timeToFirstTokenMs,
      'autoglm.tokens_per_second': result.timings.decodeTokensPerSecond,
    });
  };
  const fail = (span: Span, error: unknown) => {
    metrics?.generationFailures.inc({ family: family() });
    logger?.warn({ err: error }, 'generation failed');
    recordError(span, error);
  };
  const finish = (span: Span) => {
    metrics?.modelQueueDepth.dec({ family: family() });
    span.end();
  };

  return {
    get info(): ModelInfo {
      return model.info;
    },
    // The model's own description passes through: an agent on the wrapper prompts and parses by the model's chat
    // format, and callers that queue model work run as many at once as the model runs sequences.
    get chatFormat() {
      return model.chatFormat;
    },
    get sequences() {
      return model.sequences;
    },
    async generate(input: ModelInput, generateOptions?: GenerateOptions): Promise<GenerateResult> {
      const span = start(input, generateOptions);
      try {
        const result = await context.with(trace.setSpan(context.active(), span), () => model.generate(input, generateOptions));
        succeed(span, result);
        return result;
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        finish(span);
      }
    },
    async *stream(input: ModelInput, generateOptions?: GenerateOptions): AsyncGenerator<GenerationEvent, void, undefined> {
      const span = start(input, generateOptions);
      try {
        for await (const event of model.stream(input, generateOptions)) {
          if (event.type === 'end') {
            const { type: _type, ...result } = event;
            succeed(span, result);
          }
          yield event;
        }
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        finish(span);
      }
    },
    tokenize: (text: string) => model.tokenize(text),
    countTokens: (input: ModelInput, countOptions?: { tools?: ToolSpec[] }) => model.countTokens(input, countOptions),
    dispose: () => model.dispose(),
    // KV snapshots pass through, so a workflow on an instrumented model still resumes warm.
    ...(model.saveState === undefined ? {} : { saveState: model.saveState.bind(model) }),
    ...(model.loadState === undefined ? {} : { loadState: model.loadState.bind(model) }),
  };
}
