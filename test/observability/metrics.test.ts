import { pino } from 'pino';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import { instrumentModel } from '../../src/observability/instrument-model';
import { instrumentToolCaller } from '../../src/observability/instrument-tool-caller';
import { instrumentWorkflowEvents } from '../../src/observability/instrument-workflow';
import { AutoglmMetrics } from '../../src/observability/metrics';
import { defineTool } from '../../src/tools/define-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { Workflow } from '../../src/workflows/workflow';
import { ScriptedModel } from '../support/scripted-model';

/** The value of one sample line (`name{labels} value`) of the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((label) => present.includes(label)) && present.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

function makeTools() {
  let flakyCalls = 0;
  return new ToolRegistry([
    defineTool({
      name: 'math.add',
      description: 'adds two numbers',
      input: z.object({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => ({ sum: a + b }),
    }),
    defineTool({
      name: 'flaky.fetch',
      description: 'fails on its first call',
      input: z.object({}),
      execute: () => {
        flakyCalls += 1;
        if (flakyCalls === 1) throw new Error('transient');
        return { calls: flakyCalls };
      },
    }),
  ]);
}

describe('AutoglmMetrics', () => {
  it('uses a private registry: the global default registry stays empty and two instances do not share counts', async () => {
    const first = new AutoglmMetrics();
    const second = new AutoglmMetrics();
    first.toolCalls.inc({ tool: 'x' });
    expect(sample(await first.text(), 'autoglm_tool_calls_total', { tool: 'x' })).toBe(1);
    expect(sample(await second.text(), 'autoglm_tool_calls_total', { tool: 'x' })).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('autoglm_');
    expect(first.contentType).toContain('text/plain');
  });

  it('records a generation: tokens, prompt tokens, time to first token, tokens/s, and an empty model queue afterwards', async () => {
    const metrics = new AutoglmMetrics();
    const model = instrumentModel(new ScriptedModel(['hello', 'abcdefgh']), { metrics });
    await model.generate('hi');
    const events = [];
    for await (const event of model.stream('again', { maxNewTokens: 3 })) events.push(event);
    expect(events.filter((event) => event.type === 'token')).toHaveLength(3);
    const text = await metrics.text();
    expect(sample(text, 'autoglm_tokens_generated_total', { family: 'glm' })).toBe(8);
    expect(sample(text, 'autoglm_prompt_tokens_total', { family: 'glm' })).toBe(2 + 5);
    expect(sample(text, 'autoglm_generations_total', { family: 'glm', finish_reason: 'stop' })).toBe(1);
    expect(sample(text, 'autoglm_generations_total', { family: 'glm', finish_reason: 'length' })).toBe(1);
    expect(sample(text, 'autoglm_time_to_first_token_seconds_count', { family: 'glm' })).toBe(2);
    expect(sample(text, 'autoglm_generation_tokens_per_second_count', { family: 'glm' })).toBe(2);
    expect(sample(text, 'autoglm_model_queue_depth', { family: 'glm' })).toBe(0);
    expect(text).toContain('# TYPE autoglm_time_to_first_token_seconds histogram');
  });

  it('the instrumented model tells the chat format and sequences of the model it wraps', () => {
    const scripted = Object.assign(new ScriptedModel(['ok']), { sequences: 3 });
    const model = instrumentModel(scripted, { metrics: new AutoglmMetrics() });
    expect(model.sequences).toBe(3);
    expect(model.chatFormat).toBe(scripted.chatFormat);
    expect(instrumentModel(new ScriptedModel(['ok'])).sequences).toBeUndefined();
  });

  it('logs each generation with a model field when given a logger', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const model = instrumentModel(new ScriptedModel(['ok']), { logger });
    await model.generate('x');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ model: 'glm', msg: 'generation', finishReason: 'stop', usage: { completionTokens: 2 } });
  });

  it('counts the model queue while generations are in flight, and failures of generations that throw', async () => {
    const metrics = new AutoglmMetrics();
    const model = instrumentModel(new ScriptedModel(['abc']), { metrics });
    const stream = model.stream('x');
    await stream.next();
    expect(sample(await metrics.text(), 'autoglm_model_queue_depth', { family: 'glm' })).toBe(1);
    await stream.return(undefined);
    expect(sample(await metrics.text(), 'autoglm_model_queue_depth', { family: 'glm' })).toBe(0);
    await expect(model.generate('no reply left')).rejects.toThrow(/no reply scripted/);
    expect(sample(await metrics.text(), 'autoglm_generation_failures_total', { family: 'glm' })).toBe(1);
  });

  it('counts tool calls and failures by tool and error code, with latency by status', async () => {
    const metrics = new AutoglmMetrics();
    const tools = instrumentToolCaller(makeTools(), { metrics });
    expect(await tools.call('math.add', { a: 1, b: 2 })).toEqual({ ok: true, value: { sum: 3 } });
    const bad = await tools.call('math.add', { a: 'one' });
    expect(bad.ok).toBe(false);
    expect((await tools.call('flaky.fetch', {})).ok).toBe(false);
    expect((await tools.call('nope.missing', {})).ok).toBe(false);
    // The view is still the registry for everything but `call`.
    expect(tools.has('math.add')).toBe(true);
    expect(tools.toolSpecs().map((spec) => spec.name)).toEqual(['math.add', 'flaky.fetch']);
    const text = await metrics.text();
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'math.add' })).toBe(2);
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'flaky.fetch' })).toBe(1);
    expect(sample(text, 'autoglm_tool_failures_total', { tool: 'math.add', code: 'TOOL_INPUT' })).toBe(1);
    expect(sample(text, 'autoglm_tool_failures_total', { tool: 'flaky.fetch', code: 'TOOL_EXECUTION' })).toBe(1);
    expect(sample(text, 'autoglm_tool_failures_total', { tool: 'nope.missing', code: 'TOOL_NOT_FOUND' })).toBe(1);
    expect(sample(text, 'autoglm_tool_call_duration_seconds_count', { tool: 'math.add', status: 'ok' })).toBe(1);
    expect(sample(text, 'autoglm_tool_call_duration_seconds_count', { tool: 'math.add', status: 'error' })).toBe(1);
  });

  it('records a workflow: step latency by step and status, retries, runs, and an empty workflow queue afterwards', async () => {
    const metrics = new AutoglmMetrics();
    const onEvent = instrumentWorkflowEvents({ metrics });
    const tools = instrumentToolCaller(makeTools(), { metrics, workflow: onEvent });
    const workflow = Workflow.define({
      name: 'sums',
      steps: [
        { id: 'first', uses: 'math.add', with: { a: 1, b: 2 } },
        { id: 'second', uses: 'math.add', with: { a: '${{ steps.first.output.sum }}', b: 10 }, needs: ['first'] },
        { id: 'flaky', uses: 'flaky.fetch', retry: { max: 2, initialMs: 1, maxMs: 1 } },
        { id: 'broken', uses: 'math.add', with: { a: 'x', b: 1 }, onFailure: 'continue' },
      ],
    });
    const seen: string[] = [];
    const run = await workflow.run({ tools, onEvent: (event) => { onEvent(event); seen.push(event.type); } });
    expect(run.steps.first.status).toBe('succeeded');
    expect(run.steps.flaky.status).toBe('succeeded');
    expect(run.steps.broken.status).toBe('failed');
    expect(seen).toContain('step-retry');
    const text = await metrics.text();
    for (const step of ['first', 'second', 'flaky']) {
      expect(sample(text, 'autoglm_workflow_step_duration_seconds_count', { workflow: 'sums', step, status: 'succeeded' })).toBe(1);
    }
    expect(sample(text, 'autoglm_workflow_step_duration_seconds_count', { workflow: 'sums', step: 'broken', status: 'failed' })).toBe(1);
    expect(sample(text, 'autoglm_workflow_step_retries_total', { workflow: 'sums', step: 'flaky' })).toBe(1);
    expect(sample(text, 'autoglm_workflow_runs_total', { workflow: 'sums', status: run.status })).toBe(1);
    expect(sample(text, 'autoglm_workflow_queue_depth', { workflow: 'sums' })).toBe(0);
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'math.add' })).toBe(3);
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'flaky.fetch' })).toBe(2);
  });

  it('counts a running step in the workflow queue', async () => {
    const metrics = new AutoglmMetrics();
    const onEvent = instrumentWorkflowEvents({ metrics });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = 0;
    let bothEntered!: () => void;
    const bothRunning = new Promise<void>((resolve) => (bothEntered = resolve));
    const execute = () => {
      if (++entered === 2) bothEntered();
      return gate.then(() => 1);
    };
    const tools = new ToolRegistry([defineTool({ name: 'wait', description: 'waits', input: z.object({}), execute })]);
    const running = Workflow.define({ name: 'held', steps: [{ id: 'a', uses: 'wait' }, { id: 'b', uses: 'wait' }] }).run({ tools, onEvent });
    await bothRunning;
    expect(sample(await metrics.text(), 'autoglm_workflow_queue_depth', { workflow: 'held' })).toBe(2);
    release();
    await running;
    expect(sample(await metrics.text(), 'autoglm_workflow_queue_depth', { workflow: 'held' })).toBe(0);
  });

  it('records an AutoAgent run given an instrumented model and registry', async () => {
    const metrics = new AutoglmMetrics();
    const model = instrumentModel(new ScriptedModel(['math.add\n{"a": 2, "b": 3}', '\nThe sum is 5.']), { metrics });
    const tools = instrumentToolCaller(makeTools(), { metrics });
    const agent = new AutoAgent({ task: 'Add the numbers.', model, tools, plan: false, maxSteps: 3 });
    const result = await agent.run('2 + 3');
    expect(result.finishReason).toBe('answer');
    const text = await metrics.text();
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'math.add' })).toBe(1);
    expect(sample(text, 'autoglm_generations_total', { family: 'glm', finish_reason: 'stop' })).toBe(2);
    expect(sample(text, 'autoglm_tokens_generated_total', { family: 'glm' })).toBe(result.usage.completionTokens);
  });
});

describe('Workflow.run({ metrics })', () => {
  it('records steps, tool calls and the run without adapters, and still calls the caller’s onEvent', async () => {
    const metrics = new AutoglmMetrics();
    const seen: string[] = [];
    const run = await Workflow.define({ name: 'direct', steps: [{ id: 'add', uses: 'math.add', with: { a: 1, b: 1 } }] }).run({
      tools: makeTools(),
      metrics,
      onEvent: (event) => seen.push(event.type),
    });
    expect(run.status).toBe('succeeded');
    expect(seen).toEqual(['run-start', 'step-start', 'step-end', 'run-end']);
    const text = await metrics.text();
    expect(sample(text, 'autoglm_tool_calls_total', { tool: 'math.add' })).toBe(1);
    expect(sample(text, 'autoglm_workflow_step_duration_seconds_count', { workflow: 'direct', step: 'add', status: 'succeeded' })).toBe(1);
    expect(sample(text, 'autoglm_workflow_runs_total', { workflow: 'direct', status: 'succeeded' })).toBe(1);
  });
});
