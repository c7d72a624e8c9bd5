/**
 * Spans through @opentelemetry/api: no-ops unless the host registers an OpenTelemetry SDK (a TracerProvider, and a
 * context manager for parent/child links across awaits).
 */
import { context, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';

export type { Attributes, Context, Span };

/** The instrumentation scope name of autoglm's spans. */
export const tracerName = 'autoglm';

/** The tracer autoglm's spans come from (looked up on each call, so a provider registered later is used). */
export function autoglmTracer(): Tracer {
  return trace.getTracer(tracerName);
}

export interface WithSpanOptions {
  /** The parent context. Defaults to the active context. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new span that is active for its duration: a thrown error (or a rejected promise) is recorded on
 * the span, its status set to ERROR, and rethrown; the span always ends.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: WithSpanOptions = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = autoglmTracer().startSpan(name, { attributes: definedAttributes(attributes) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's message (and exception event). */
export function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Attributes without undefined values (OpenTelemetry drops them with a diagnostic). */
export function definedAttributes(attributes: Record<string, unknown>): Attributes {
  const result: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') result[key] = value;
    else result[key] = String(value);
  }
  return result;
}
