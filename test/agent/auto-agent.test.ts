import { describe, expect, it } from 'vitest';
import { AutoAgent } from '../../src/agent/auto-agent';
import type { AgentEvent } from '../../src/agent/agent-events';
import { AgentOutputError } from '../../src/errors';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel } from '../support/scripted-model';
import { Answer, plan, promptMessages, testTools } from './helpers';

const answer = '\n{"total":42,"label":"ok"}';

describe('AutoAgent loop', () => {
  it('plans, calls a tool, observes the result and answers with a typed output', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"q3"}', answer]);
    const log: Parameters<typeof testTools>[0] = [];
    const agent = new AutoAgent({ task: 'Total the revenue', model, tools: testTools(log), schema: Answer });
    const result = await agent.run('What was the revenue in q3?');

    expect(result.finishReason).toBe('answer');
    expect(result.output).toEqual({ total: 42, label: 'ok' });
    const total: number | undefined = result.output?.total; // typed by the zod schema
    expect(total).toBe(42);
    expect(result.steps.map((step) => step.kind)).toEqual(['plan', 'tool', 'answer']);
    expect(result.steps[0]!.plan).toEqual({ steps: [{ tool: 'doc.read', goal: 'use doc.read' }] });
    expect(result.steps[1]).toMatchObject({
      toolCall: { name: 'doc.read', args: { name: 'q3' } },
      result: { ok: true, value: 'DOCUMENT q3: revenue was 40 and costs 2.' },
    });
    expect(log).toHaveLength(1);
    expect(result.usage.generations).toBe(3);
    expect(result.usage.completionTokens).toBe([plan('doc.read'), 'doc.read\n{"name":"q3"}', answer].join('').length);

    // Step 1 asks for a plan (constrained to the plan schema, tools rendered); step 2 acts with the output schema.
    const [planCall, actCall, answerCall] = model.calls;
    expect(planCall!.options.schema).toBeDefined();
    expect(planCall!.options.schema).not.toBe(Answer);
    expect(planCall!.options.tools!.map((tool) => tool.name)).toEqual(['doc.read', 'calc.add', 'net.flaky']);
    expect(actCall!.options.schema).toBe(Answer);
    expect(actCall!.options.tools).toHaveLength(3);
    expect(actCall!.options.constrained).toBe(true);
    // The call is recorded as an assistant message with metadata = tool name, the result as an observation.
    expect(answerCall!.prompt).toContain(
      '<|assistant|>doc.read\n{"name":"q3"}<|observation|>\nDOCUMENT q3: revenue was 40 and costs 2.<|assistant|>',
    );
    expect(promptMessages(answerCall!.prompt).filter((m) => m.role === 'user')).toEqual([
      { role: 'user', body: '\nWhat was the revenue in q3?' },
    ]);
  });

  it('replans after a tool error, and when the plan is used up without an answer', async () => {
    const model = new ScriptedModel([
      plan('net.flaky'),
      'net.flaky\n{}',
      plan('doc.read'),
      'doc.read\n{"name":"a"}',
      'calc.add\n{"a":40,"b":2}',
      plan(),
      answer,
    ]);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer });
    const events: AgentEvent[] = [];
    for await (const event of agent.stream('go')) events.push(event);
    const final = events.at(-1)!;
    expect(final.type === 'final' && final.result.finishReason).toBe('answer');
    const result = final.type === 'final' ? final.result : undefined;
    expect(result!.steps.map((step) => step.kind)).toEqual(['plan', 'tool', 'plan', 'tool', 'tool', 'plan', 'answer']);
    expect(result!.steps[1]!.result).toMatchObject({ ok: false, error: { code: 'TOOL_EXECUTION', message: expect.stringContaining('service unavailable') } });
    expect(events.filter((event) => event.type === 'plan').map((event) => event.type === 'plan' && event.replan)).toEqual([false, true, true]);
    // The replan steps are constrained to the plan schema, and the model is told why it replans.
    expect(model.calls[2]!.options.schema).toBe(model.calls[0]!.options.schema);
    expect(model.calls[2]!.prompt).toMatch(/<\|user\|>\nThe call to net\.flaky failed[^<]*<\|assistant\|>$/);
    expect(model.calls[5]!.options.schema).toBe(model.calls[0]!.options.schema);
    expect(model.calls[5]!.prompt).toMatch(/<\|user\|>\nYour plan is used up[^<]*<\|assistant\|>$/);
    expect(model.calls[6]!.options.schema).toBe(Answer);
  });

  it('turns a malformed call (lenient mode) into an error observation, and the step counts', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name": ', 'doc.read\n{"name":"b"}', answer]);
    const agent = new AutoAgent({
      task: 'Total',
      model,
      tools: testTools(),
      schema: Answer,
      maxSteps: 4,
      generation: { constrained: false },
    });
    const result = await agent.run('go');
    expect(model.calls.every((call) => call.options.constrained === false)).toBe(true);
    expect(result.steps.map((step) => step.kind)).toEqual(['plan', 'tool', 'tool', 'answer']);
    expect(result.steps[1]).toMatchObject({ toolCall: { name: 'doc.read' }, result: { ok: false, error: { code: 'TOOL_CALL_FORMAT' } } });
    const observation = promptMessages(model.calls[2]!.prompt).at(-2)!;
    expect(observation.role).toBe('observation');
    expect(observation.body).toMatch(/TOOL_CALL_FORMAT.*not valid JSON/);
    // Four steps: the malformed call used one, so the fourth was the forced answer.
    expect(result.finishReason).toBe('max-steps');
    // Unconstrained, toolChoice 'none' could not be enforced: the forced answer's prompt leaves the tools out.
    expect(model.calls[3]!.options.tools).toBeUndefined();
  });

  it('answers a repeated call with a corrective observation and forces the answer on the third (finishReason loop)', async () => {
    const model = new ScriptedModel([
      'doc.read\n{"name":"a"}',
      'doc.read\n{"name":"a"}',
      'calc.add\n{"a":1,"b":2}',
      'doc.read\n{ "name" : "a" }',
      answer,
    ]);
    const log: Parameters<typeof testTools>[0] = [];
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(log), schema: Answer, plan: false });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('loop');
    expect(result.output).toEqual({ total: 42, label: 'ok' });
    // The repeated call was not executed again.
    expect(log.filter((entry) => entry.name === 'doc.read')).toHaveLength(1);
    const kinds = result.steps.map((step) => [step.kind, step.result?.ok === false ? step.result.error.code : 'ok']);
    expect(kinds).toEqual([
      ['tool', 'ok'],
      ['tool', 'REPEATED_CALL'],
      ['tool', 'ok'],
      ['tool', 'LOOP'],
      ['answer', 'ok'],
    ]);
    expect(promptMessages(model.calls[2]!.prompt).at(-2)).toMatchObject({ role: 'observation' });
    expect(promptMessages(model.calls[2]!.prompt).at(-2)!.body).toContain('You already called doc.read with exactly these arguments');
    const forced = model.calls[4]!;
    // The tools stay in the prompt (append-only for the prefix cache); toolChoice 'none' allows the answer only.
    expect(forced.options.tools).toHaveLength(3);
    expect(forced.options.toolChoice).toBe('none');
    expect(forced.options.schema).toBe(Answer);
    expect(forced.prompt.startsWith(model.calls[3]!.prompt)).toBe(true);
    expect(forced.prompt).toMatch(/You keep repeating the same call[^<]*<\|assistant\|>$/);
    expect(result.steps.at(-1)!.forced).toBe(true);
  });

  it('shows an answer that fails the output schema to the model and lets it answer again', async () => {
    const model = new ScriptedModel(['\n{"total":"many"}', answer]);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, plan: false, generation: { constrained: false } });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('answer');
    expect(result.steps[0]).toMatchObject({ kind: 'answer', result: { ok: false, error: { code: 'OUTPUT_INVALID' } } });
    expect(model.calls[1]!.prompt).toMatch(/<\|assistant\|>\n\{"total":"many"\}<\|user\|>\nYour answer is not valid: .*total: /);
  });

  it('constrains the last allowed step to the final answer (finishReason max-steps)', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"a"}', 'doc.read\n{"name":"b"}', answer]);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, maxSteps: 4 });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('max-steps');
    expect(result.output).toEqual({ total: 42, label: 'ok' });
    expect(model.calls).toHaveLength(4);
    const last = model.calls[3]!;
    expect(last.options.schema).toBe(Answer);
    expect(last.options.tools).toHaveLength(3);
    expect(last.options.toolChoice).toBe('none');
    expect(last.prompt.startsWith(`${model.calls[2]!.prompt}doc.read\n{"name":"b"}<|observation|>`)).toBe(true);
    expect(last.prompt).toMatch(/No steps are left[^<]*<\|assistant\|>$/);
    expect(result.steps.at(-1)).toMatchObject({ kind: 'answer', forced: true });
    // The earlier steps were not forced.
    expect(model.calls.slice(1, 3).every((call) => call.options.tools?.length === 3)).toBe(true);
  });

  it('throws AgentOutputError when the forced final answer does not match the output schema', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"a"}', '{"total":"many"}']);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, maxSteps: 3, generation: { constrained: false } });
    const error = await agent.run('go').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentOutputError);
    expect((error as Error).message).toMatch(/step 3.*total: /);
  });

  it('returns the answer text when there is no output schema, and answers at once without tools', async () => {
    const model = new ScriptedModel(['\nHello there.']);
    const agent = new AutoAgent({ task: 'Greet', model });
    const result = await agent.run('hi');
    expect(result).toMatchObject({ finishReason: 'answer', output: 'Hello there.' });
    expect(model.calls[0]!.options.tools).toBeUndefined();
    expect(model.calls[0]!.options.schema).toBeUndefined();
  });

  it('keeps earlier runs of a session as exchanges in its later prompts', async () => {
    const model = new ScriptedModel(['\nFirst answer.', '\nSecond answer.']);
    const agent = new AutoAgent({ task: 'Chat', model });
    const session = agent.session();
    await agent.run('first question', { session });
    await agent.run('second question', { session });
    expect(model.calls[1]!.prompt).toContain('<|user|>\nfirst question<|assistant|>\nFirst answer.<|user|>\nsecond question<|assistant|>');
  });

  it('passes the seed per step and the generation options to the model', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"a"}', answer]);
    const agent = new AutoAgent({ task: 'T', model, tools: testTools(), schema: Answer, generation: { maxNewTokens: 99, temperature: 0.5 } });
    await agent.run('go', { seed: 10 });
    expect(model.calls.map((call) => call.options.seed)).toEqual([11, 12, 13]);
    expect(model.calls.every((call) => call.options.maxNewTokens === 99 && call.options.temperature === 0.5)).toBe(true);
  });

  it('accepts a ToolRegistry as tools, and returns its validation failures to the model as observations', async () => {
    const model = new ScriptedModel(['calc.add\n{"a":"one","b":2}', 'calc.add\n{"a":1,"b":2}', answer]);
    const registry = new ToolRegistry(testTools());
    const agent = new AutoAgent({ task: 'Add', model, tools: registry, schema: Answer, plan: false });
    const result = await agent.run('1 + 2?');
    expect(result.steps[0]!.result).toMatchObject({ ok: false, error: { code: 'TOOL_INPUT', issues: [{ path: 'a' }] } });
    expect(result.steps[1]!.result).toEqual({ ok: true, value: { sum: 3 } });
    expect(model.calls[1]!.prompt).toMatch(/<\|observation\|>\n\{"error":\{"code":"TOOL_INPUT"/);
    expect(model.calls[2]!.prompt).toContain('<|observation|>\n{"sum":3}<|assistant|>');
  });

  it('takes a tool call at the plan step as the first action, and goes on without a plan it cannot parse', async () => {
    const model = new ScriptedModel(['doc.read\n{"name":"a"}', answer]);
    const agent = new AutoAgent({ task: 'T', model, tools: testTools(), schema: Answer });
    const result = await agent.run('go');
    expect(result.steps.map((step) => step.kind)).toEqual(['tool', 'answer']);
    expect(result.steps[0]!.result).toMatchObject({ ok: true });

    const lenient = new ScriptedModel(['\nI will read the doc first.', 'doc.read\n{"name":"a"}', answer]);
    const agent2 = new AutoAgent({ task: 'T', model: lenient, tools: testTools(), schema: Answer, generation: { constrained: false } });
    const result2 = await agent2.run('go');
    expect(result2.finishReason).toBe('answer');
    expect(result2.steps[0]).toMatchObject({ kind: 'plan', result: { ok: false, error: { code: 'PLAN_INVALID' } } });
    expect(result2.steps[0]!.plan).toBeUndefined();
    expect(lenient.calls[1]!.options.schema).toBe(Answer);
  });
});
