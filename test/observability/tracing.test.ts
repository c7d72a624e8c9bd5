import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import { instrumentModel } from '../../src/observability/instrument-model';
import { instrumentToolCaller } from '../../src/observability/instrument-tool-caller';
import { instrumentWorkflowEvents } from '../../src/observability/instrument-workflow';
import { AutoglmMetrics } from '../../src/observability/metrics';
import { withSpan } from '../../src/observability/tracing';
import { defineTool } from '../../src/tools/define-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { Workflow } from '../../src/workflows/workflow';
import { ScriptedModel } from '../support/scripted-model';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);

function makeTools() {
  return new ToolRegistry([
    defineTool({ name: 'math.add', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => ({ sum: a + b }) }),
  ]);
}

describe('withSpan', () => {
  it('nests spans run inside it, returns the value, and records a thrown error before rethrowing it', async () => {
    const value = await withSpan('outer', { 'autoglm.run_id': 'r1', skipped: undefined }, () => withSpan('inner', {}, async () => 42));
    expect(value).toBe(42);
    const [outer] = named('outer');
    const [inner] = named('inner');
    expect(parentOf(inner)).toBe(idOf(outer));
    expect(outer.attributes).toEqual({ 'autoglm.run_id': 'r1' });
    await expect(withSpan('failing', {}, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    const [failing] = named('failing');
    expect(failing.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(failing.events.map((event) => event.name)).toContain('exception');
  });
});

describe('instrumented layers', () => {
  it('a generation span carries the model family, token counts and finish reason', async () => {
    const model = instrumentModel(new ScriptedModel(['abcd']), { metrics: new AutoglmMetrics() });
    await model.generate('xy', { maxNewTokens: 2 });
    const [generation] = named('autoglm.generation');
    expect(generation.attributes).toMatchObject({
      'autoglm.model.family': 'glm',
      'autoglm.tokens.prompt': 2,
      'autoglm.tokens.completion': 2,
      'autoglm.finish_reason': 'length',
      'autoglm.max_new_tokens': 2,
    });
  });

  it('a failed tool call is an ERROR span with the tool and error code', async () => {
    const tools = instrumentToolCaller(makeTools());
    await tools.call('math.add', { a: 'no' }, { runId: 'r9', stepId: 's1' });
    const [call] = named('autoglm.tool.call');
    expect(call.attributes).toMatchObject({ 'autoglm.tool': 'math.add', 'autoglm.run_id': 'r9', 'autoglm.step_id': 's1', 'autoglm.error.code': 'TOOL_INPUT' });
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a workflow run: run span > step spans > tool call spans, and an agent step > generation and tool spans', async () => {
    const metrics = new AutoglmMetrics();
    const onEvent = instrumentWorkflowEvents({ metrics });
    const tools = instrumentToolCaller(makeTools(), { metrics, workflow: onEvent });
    const model = instrumentModel(new ScriptedModel(['math.add\n{"a": 3, "b": 4}', '\nSeven.']), { metrics });
    const agents = onEvent.agents(async (agent, input) => {
      const result = await new AutoAgent({ task: String(agent.task), model, tools, plan: false, maxSteps: 3 }).run(input);
      return result.output;
    });
    const workflow = Workflow.define({
      name: 'traced',
      steps: [
        { id: 'add', uses: 'math.add', with: { a: 1, b: 2 } },
        { id: 'explain', agent: { task: 'Explain the sum.' }, with: { sum: '${{ steps.add.output.sum }}' }, needs: ['add'] },
      ],
    });
    const run = await workflow.run({ tools, agents, model, onEvent, runId: 'run-traced' });
    expect(run.status).toBe('succeeded');

    const [runSpan] = named('autoglm.workflow.run');
    expect(runSpan.attributes).toMatchObject({ 'autoglm.run_id': 'run-traced', 'autoglm.workflow': 'traced', 'autoglm.status': 'succeeded' });
    const steps = named('autoglm.workflow.step');
    expect(steps.map((span) => span.attributes['autoglm.step_id']).sort()).toEqual(['add', 'explain']);
    for (const step of steps) {
      expect(parentOf(step)).toBe(idOf(runSpan));
      expect(step.attributes).toMatchObject({ 'autoglm.run_id': 'run-traced', 'autoglm.status': 'succeeded', 'autoglm.attempts': 1 });
    }
    const addStep = steps.find((span) => span.attributes['autoglm.step_id'] === 'add')!;
    const explainStep = steps.find((span) => span.attributes['autoglm.step_id'] === 'explain')!;
    const calls = named('autoglm.tool.call');
    expect(calls).toHaveLength(2);
    const workflowCall = calls.find((span) => span.attributes['autoglm.run_id'] === 'run-traced')!;
    expect(parentOf(workflowCall)).toBe(idOf(addStep));
    expect(workflowCall.attributes['autoglm.step_id']).toBe('add');
    const agentCall = calls.find((span) => span !== workflowCall)!;
    expect(parentOf(agentCall)).toBe(idOf(explainStep));
    const generations = named('autoglm.generation');
    expect(generations).toHaveLength(2);
    for (const generation of generations) expect(parentOf(generation)).toBe(idOf(explainStep));
    expect(runSpan.spanContext().traceId).toBe(workflowCall.spanContext().traceId);
  });

  it('a failed step ends its span with ERROR and the error code', async () => {
    const onEvent = instrumentWorkflowEvents();
    const run = await Workflow.define({ name: 'bad', steps: [{ id: 'oops', uses: 'math.add', with: { a: 'x', b: 1 } }] }).run({
      tools: instrumentToolCaller(makeTools(), { workflow: onEvent }),
      onEvent,
    });
    expect(run.status).toBe('failed');
    const [step] = named('autoglm.workflow.step');
    expect(step.status.code).toBe(SpanStatusCode.ERROR);
    expect(step.attributes).toMatchObject({ 'autoglm.status': 'failed', 'autoglm.error.code': 'TOOL_INPUT' });
    expect(named('autoglm.workflow.run')[0].status.code).toBe(SpanStatusCode.ERROR);
  });
});
