/**
 * Turns Workflow.run's events into metrics (step latency, retries, runs, queue depth) and spans (a run span with a
 * child span per step), and lends the step spans to tool calls and agent steps so theirs nest under them.
 */
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { AgentRunner, WorkflowEvent } from '../workflows/workflow-types';
import { spanAttributes } from './instrument-model';
import type { AutoglmMetrics } from './metrics';
import { autoglmTracer } from './tracing';

export interface InstrumentWorkflowOptions {
  /** Where the workflow metrics go. Defaults to none (spans only). */
  metrics?: AutoglmMetrics;
  /** Another `onEvent` handler called after this one with every event. Defaults to none. */
  next?: (event: WorkflowEvent) => void;
}

/** An `onEvent` handler for Workflow.run, with the lookups that nest tool and agent spans under step spans. */
export interface WorkflowInstrumentation {
  (event: WorkflowEvent): void;
  /** The context of a running step's span (parent for its tool calls), or undefined. */
  stepContext(runId: string, stepId: string): Context | undefined;
  /** Wraps an AgentRunner so the agent's generations and tool calls run inside the step's span. */
  agents(runner: AgentRunner): AgentRunner;
}

interface RunState {
  span: Span;
  context: Context;
  workflow: string;
  steps: Map<string, { span: Span; context: Context; startedAt: number }>;
}

/** Builds an `onEvent` handler for `workflow.run({ onEvent })`. Reuse one handler for many runs. */
export function instrumentWorkflowEvents(options: InstrumentWorkflowOptions = {}): WorkflowInstrumentation {
  const { metrics, next } = options;
  const runs = new Map<string, RunState>();

  const handle = (event: WorkflowEvent): void => {
    switch (event.type) {
      case 'run-start': {
        const parent = context.active();
        const span = autoglmTracer().startSpan(
          'autoglm.workflow.run',
          { attributes: { [spanAttributes.runId]: event.runId, [spanAttributes.workflow]: event.workflow, 'autoglm.resumed': event.resumed }, startTime: event.at },
          parent,
        );
        runs.set(event.runId, { span, context: trace.setSpan(parent, span), workflow: event.workflow, steps: new Map() });
        break;
      }
      case 'step-start': {
        const run = runs.get(event.runId);
        if (run === undefined) break;
        const existing = run.steps.get(event.stepId);
        if (existing !== undefined) {
          existing.span.addEvent('attempt', { [spanAttributes.attempts]: event.attempt }, event.at);
          break;
        }
        const span = autoglmTracer().startSpan(
          'autoglm.workflow.step',
          {
            attributes: { [spanAttributes.runId]: event.runId, [spanAttributes.stepId]: event.stepId, [spanAttributes.workflow]: run.workflow },
            startTime: event.at,
          },
          run.context,
        );
        run.steps.set(event.stepId, { span, context: trace.setSpan(run.context, span), startedAt: event.at });
        metrics?.workflowQueueDepth.inc({ workflow: run.workflow });
        break;
      }
      case 'step-retry': {
        const run = runs.get(event.runId);
        if (run === undefined) break;
        metrics?.stepRetries.inc({ workflow: run.workflow, step: event.stepId });
        run.steps.get(event.stepId)?.span.addEvent(
          'retry',
          { [spanAttributes.attempts]: event.attempt, [spanAttributes.errorCode]: event.error.code, 'autoglm.retry.delay_ms': event.delayMs },
          event.at,
        );
        break;
      }
      case 'step-suspend': {
        runs.get(event.runId)?.steps.get(event.stepId)?.span.addEvent('suspend', { 'autoglm.approval.pending': event.pendingApprovals.map((call) => call.id) }, event.at);
        break;
      }
      case 'step-end': {
        const run = runs.get(event.runId);
        if (run === undefined) break;
        const step = run.steps.get(event.stepId);
        // Steps that never started (skipped, or cancelled while waiting) have no latency and no span.
        if (step === undefined) break;
        run.steps.delete(event.stepId);
        metrics?.workflowQueueDepth.dec({ workflow: run.workflow });
        metrics?.stepDuration.observe({ workflow: run.workflow, step: event.stepId, status: event.status }, Math.max(0, event.at - step.startedAt) / 1000);
        step.span.setAttributes({ [spanAttributes.status]: event.status, [spanAttributes.attempts]: event.attempts });
        if (event.error !== undefined) {
          step.span.setAttribute(spanAttributes.errorCode, event.error.code);
          step.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
        }
        step.span.end(event.at);
        break;
      }
      case 'run-end': {
        const run = runs.get(event.runId);
        if (run === undefined) break;
        runs.delete(event.runId);
        for (const step of run.steps.values()) {
          metrics?.workflowQueueDepth.dec({ workflow: run.workflow });
          step.span.end(event.at);
        }
        metrics?.runs.inc({ workflow: run.workflow, status: event.status });
        run.span.setAttribute(spanAttributes.status, event.status);
        // A run suspended for approval is waiting, not failing.
        if (event.status !== 'succeeded' && event.status !== 'suspended') run.span.setStatus({ code: SpanStatusCode.ERROR, message: `run ${event.status}` });
        run.span.end(event.at);
        break;
      }
    }
  };

  const handler = ((event: WorkflowEvent) => {
    handle(event);
    next?.(event);
  }) as WorkflowInstrumentation;
  handler.stepContext = (runId, stepId) => runs.get(runId)?.steps.get(stepId)?.context;
  handler.agents = (runner) => (agent, input, ctx) => context.with(handler.stepContext(ctx.runId, ctx.stepId) ?? context.active(), () => runner(agent, input, ctx));
  return handler;
}
