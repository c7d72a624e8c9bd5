/**
 * Wraps a ToolRegistry (or any ToolCaller) so each call is counted by tool, timed, counted as a failure when it
 * returns an error value, and recorded as an `autoglm.tool.call` span.
 */
import { context, SpanStatusCode } from '@opentelemetry/api';
import type { ToolCallOptions, ToolCaller, ToolResult } from '../tools/tool';
import { spanAttributes } from './instrument-model';
import type { WorkflowInstrumentation } from './instrument-workflow';
import type { AutoglmMetrics } from './metrics';
import { definedAttributes, withSpan } from './tracing';

export interface InstrumentToolCallerOptions {
  /** Where the tool metrics go. Defaults to none (spans only). */
  metrics?: AutoglmMetrics;
  /**
   * The workflow handler of the same runs: a call made by a workflow step (its `runId` and `stepId`) gets the step's
   * span as parent. Defaults to none: the active context is the parent.
   */
  workflow?: Pick<WorkflowInstrumentation, 'stepContext'>;
}

/**
 * Returns a view of `tools` whose `call` is instrumented; every other member (`has`, `toolSpecs`, `list`, `files`,
 * ...) is the original's, so the view can stand wherever the registry did (AutoAgent, Workflow.run).
 */
export function instrumentToolCaller<T extends ToolCaller>(tools: T, options: InstrumentToolCallerOptions = {}): T {
  const { metrics, workflow } = options;
  const call = (name: string, args: unknown, callOptions?: ToolCallOptions): Promise<ToolResult> => {
    const { runId, stepId } = callOptions ?? {};
    const parent = (runId !== undefined && stepId !== undefined ? workflow?.stepContext(runId, stepId) : undefined) ?? context.active();
    metrics?.toolCalls.inc({ tool: name });
    const started = performance.now();
    return withSpan(
      'autoglm.tool.call',
      definedAttributes({ [spanAttributes.tool]: name, [spanAttributes.runId]: runId, [spanAttributes.stepId]: stepId }),
      async (span) => {
        let result: ToolResult;
        try {
          result = await tools.call(name, args, callOptions);
        } catch (error) {
          // A ToolCaller should return failures, but a foreign one may throw: count it like a failure value.
          metrics?.toolFailures.inc({ tool: name, code: 'THROWN' });
          metrics?.toolDuration.observe({ tool: name, status: 'error' }, (performance.now() - started) / 1000);
          throw error;
        }
        metrics?.toolDuration.observe({ tool: name, status: result.ok ? 'ok' : 'error' }, (performance.now() - started) / 1000);
        if (!result.ok) {
          metrics?.toolFailures.inc({ tool: name, code: result.error.code });
          span.setAttribute(spanAttributes.errorCode, result.error.code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
        }
        return result;
      },
      { parent },
    );
  };
  return new Proxy(tools, {
    get(target, key) {
      if (key === 'call') return call;
      const value: unknown = Reflect.get(target, key, target);
      // Bound to the original so methods reading #private fields keep working through the view.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
