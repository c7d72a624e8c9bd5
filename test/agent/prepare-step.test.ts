import { describe, expect, it } from 'vitest';
import { AutoAgent, type PrepareStep, type PrepareStepResult } from '../../src/agent/index';
import { AgentError } from '../../src/errors';
import { ScriptedModel } from '../support/scripted-model';
import { Answer, testTools } from './helpers';

const answer = '\n{"total":42,"label":"ok"}';

describe('AutoAgent prepareStep', () => {
  it("applies a step's temperature, toolChoice and tool subset to that step's generation only", async () => {
    const model = new ScriptedModel(['doc.read\n{"name":"a"}', 'calc.add\n{"a":1,"b":2}', answer]);
    const contexts: Array<{ stepNumber: number; kinds: string[] }> = [];
    const prepareStep: PrepareStep = ({ stepNumber, steps }) => {
      contexts.push({ stepNumber, kinds: steps.map((step) => step.kind) });
      if (stepNumber === 1) return { tools: ['doc.read'], toolChoice: 'required', temperature: 0.5 };
      if (stepNumber === 2) return { tools: ['calc.add'] };
      return undefined;
    };
    const agent = new AutoAgent({ task: 'Total', model, tools: testTools(), schema: Answer, plan: false, generation: { temperature: 0 }, prepareStep });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('answer');
    expect(contexts).toEqual([
      { stepNumber: 1, kinds: [] },
      { stepNumber: 2, kinds: ['tool'] },
      { stepNumber: 3, kinds: ['tool', 'tool'] },
    ]);
    const [first, second, third] = model.calls.map((call) => call.options);
    expect(first).toMatchObject({ temperature: 0.5, toolChoice: 'required' });
    expect(first!.tools!.map((tool) => tool.name)).toEqual(['doc.read']);
    expect(second!.temperature).toBe(0);
    expect(second!.toolChoice).toBeUndefined();
    expect(second!.tools!.map((tool) => tool.name)).toEqual(['calc.add']);
    expect(third!.tools).toHaveLength(3);
  });

  it('a call outside the step subset is not run (unconstrained output becomes a TOOL_CALL_FORMAT observation)', async () => {
    const model = new ScriptedModel(['net.flaky\n{}', answer]);
    const log: Parameters<typeof testTools>[0] = [];
    const agent = new AutoAgent({
      task: 'Total',
      model,
      tools: testTools(log),
      schema: Answer,
      plan: false,
      generation: { constrained: false },
      prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { tools: ['doc.read'] } : undefined),
    });
    const result = await agent.run('go');
    expect(log).toHaveLength(0);
    expect(result.steps[0]).toMatchObject({ kind: 'tool', result: { ok: false, error: { code: 'TOOL_CALL_FORMAT' } } });
  });

  it('refuses unknown keys, bad values and unknown tool names with an AgentError naming the field', async () => {
    const run = (returned: unknown) =>
      new AutoAgent({
        task: 'Total',
        model: new ScriptedModel([answer]),
        tools: testTools(),
        schema: Answer,
        plan: false,
        prepareStep: () => returned as PrepareStepResult,
      }).run('go');
    await expect(run({ maxTokens: 5 })).rejects.toThrow(AgentError);
    await expect(run({ maxTokens: 5 })).rejects.toThrow(/prepareStep result \(step 1\).*maxTokens/);
    await expect(run({ temperature: -1 })).rejects.toThrow(/`temperature`/);
    await expect(run({ toolChoice: 'any' })).rejects.toThrow(/`toolChoice`/);
    await expect(run({ tools: ['shell.exec'] })).rejects.toThrow(/unknown: shell\.exec/);
    await expect(run(7)).rejects.toThrow(/`result`/);
    expect(() => new AutoAgent({ task: 'Total', model: new ScriptedModel([]), prepareStep: {} as PrepareStep })).toThrow(/prepareStep/);
  });
});
