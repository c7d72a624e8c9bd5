/**
 * Several calls in one assistant turn (GLM-4-0414 separates them with `<|assistant|>`): the agent runs them
 * concurrently, records each as its own assistant message, and returns the observations in the order of the calls.
 * Where the format has no parallel calls (GLM-Edge), only the first call of a turn runs.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import { defineTool } from '../../src/tools/define-tool';
import { ScriptedModel } from '../support/scripted-model';
import { promptMessages } from './helpers';

function slowTools(events: string[]) {
  const wait = (name: string, ms: number) =>
    defineTool({
      name,
      description: `waits ${ms} ms`,
      input: z.object({ id: z.string() }),
      execute: async ({ id }) => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`end ${name}`);
        return { from: name, id };
      },
    });
  return [wait('slow.first', 60), wait('fast.second', 5)];
}

describe('parallel tool calls in one turn', () => {
  it('runs them concurrently and returns the observations in call order (GLM-4-0414 template)', async () => {
    const events: string[] = [];
    const model = new ScriptedModel(['slow.first\n{"id": "a"}<|assistant|>fast.second\n{"id": "b"}', '\nDone.'], { chatTemplate: 'glm4-0414' });
    expect(model.chatFormat.parallelCallSeparator).toBe('<|assistant|>');
    const result = await new AutoAgent({ task: 'Fetch both.', model, tools: slowTools(events), plan: false, maxSteps: 3 }).run('go');
    expect(result.finishReason).toBe('answer');
    // Both started before either ended: concurrent.
    expect(events.slice(0, 2).sort()).toEqual(['start fast.second', 'start slow.first']);
    expect(result.steps.filter((step) => step.kind === 'tool').map((step) => step.toolCall?.name)).toEqual(['slow.first', 'fast.second']);
    const messages = promptMessages(model.calls[1]!.prompt);
    const tail = messages.slice(-5);
    expect(tail.map((message) => message.role)).toEqual(['assistant', 'assistant', 'observation', 'observation', 'assistant']);
    expect(tail[0]!.body).toBe('slow.first \n{"id": "a"}'); // the real template's recorded-call layout
    expect(tail[2]!.body).toContain('"from":"slow.first"');
    expect(tail[3]!.body).toContain('"from":"fast.second"');
  });

  it('runs only the first call of unconstrained output where the format has no parallel calls (GLM-Edge); answers need no leading newline', async () => {
    const events: string[] = [];
    const model = new ScriptedModel(['slow.first\n{"id": "a"}<|assistant|>fast.second\n{"id": "b"}', 'Done.'], { chatTemplate: 'glm-edge' });
    expect(model.chatFormat).toMatchObject({ parallelCallSeparator: undefined, answerPrefix: '', tools: 'ours' });
    const agent = new AutoAgent({ task: 'Fetch both.', model, tools: slowTools(events), plan: false, maxSteps: 3, generation: { constrained: false } });
    const result = await agent.run('go');
    expect(result).toMatchObject({ finishReason: 'answer', output: 'Done.' });
    expect(events).toEqual(['start slow.first', 'end slow.first']);
    const prompt = model.calls[1]!.prompt;
    expect(prompt).toContain('## slow.first'); // tools written by us: GLM-Edge's template has no place for them
    expect(prompt).toContain('<|assistant|>\nslow.first\n{"id": "a"}<|user|>\nObservation:\n{"from":"slow.first","id":"a"}<|assistant|>\n');
  });
});
