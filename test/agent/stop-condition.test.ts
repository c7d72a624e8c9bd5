import { describe, expect, it } from 'vitest';
import { AutoAgent, hasToolCall, stepCountIs, type StopCondition } from '../../src/agent/index';
import { AgentError } from '../../src/errors';
import { ScriptedModel } from '../support/scripted-model';
import { Answer, plan, testTools } from './helpers';

const answer = '\n{"total":42,"label":"ok"}';

describe('AutoAgent stopWhen', () => {
  it('stepCountIs(n): after step n the next step is the forced answer (finishReason stop-condition)', async () => {
    const model = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"a"}', answer]);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, maxSteps: 12, stopWhen: stepCountIs(2) });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('stop-condition');
    expect(result.output).toEqual({ total: 42, label: 'ok' });
    expect(model.calls).toHaveLength(3);
    expect(model.calls[2]!.options.toolChoice).toBe('none');
    expect(model.calls[2]!.prompt).toMatch(/enough tool use[^<]*<\|assistant\|>$/);
    expect(result.steps.map((step) => step.kind)).toEqual(['plan', 'tool', 'answer']);
    expect(result.steps.at(-1)).toMatchObject({ kind: 'answer', forced: true });
  });

  it('hasToolCall(name) is met only after a step that called that tool; an array stops on any condition', async () => {
    const model = new ScriptedModel(['doc.read\n{"name":"a"}', 'calc.add\n{"a":1,"b":2}', answer]);
    const seen: number[] = [];
    const spy: StopCondition = ({ stepNumber, steps }) => {
      seen.push(stepNumber);
      expect(steps.at(-1)!.index).toBe(stepNumber);
      return false;
    };
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, plan: false, stopWhen: [spy, hasToolCall('calc.add')] });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('stop-condition');
    expect(seen).toEqual([1, 2]);
    expect(model.calls).toHaveLength(3);
    expect(model.calls[2]!.options.toolChoice).toBe('none');
  });

  it('an unmet condition leaves the run as before', async () => {
    const model = new ScriptedModel(['doc.read\n{"name":"a"}', answer]);
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, plan: false, stopWhen: hasToolCall('calc.add') });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('answer');
    expect(result.steps.at(-1)!.forced).toBeUndefined();
  });

  it('refuses bad helpers and options, and reports a condition that throws as an AgentError', async () => {
    expect(() => stepCountIs(0)).toThrow(AgentError);
    expect(() => stepCountIs(0)).toThrow(/count/);
    expect(() => hasToolCall('')).toThrow(/name/);
    const model = new ScriptedModel(['doc.read\n{"name":"a"}', answer]);
    expect(() => new AutoAgent({ task: 'Total', model, stopWhen: 5 as unknown as StopCondition })).toThrow(/stopWhen/);
    const broken = new AutoAgent({
      task: 'Total',
      model,
      tools: testTools(),
      schema: Answer,
      plan: false,
      stopWhen: () => {
        throw new Error('boom');
      },
    });
    await expect(broken.run('go')).rejects.toThrow(/stopWhen\[0\] threw after step 1: boom/);
  });
});
