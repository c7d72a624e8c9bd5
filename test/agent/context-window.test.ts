import { describe, expect, it } from 'vitest';
import { ContextWindow } from '../../src/agent/context-window';
import type { ChatMessage } from '../../src/models/language-model';
import { AutoAgent } from '../../src/agent/auto-agent';
import { ScriptedModel } from '../support/scripted-model';
import { Answer, plan, testTools } from './helpers';

const system: ChatMessage = { role: 'system', content: 'SYSTEM' };
const input: ChatMessage = { role: 'user', content: 'INPUT' };
const toolTurn = (index: number, result = `result ${index}`): ChatMessage[] => [
  { role: 'assistant', metadata: 'doc.read', content: `{"n":${index}}` },
  { role: 'observation', content: result },
];
/** Characters of all contents: a simple, exact token count for these tests. */
const countCharacters = (messages: ChatMessage[]) => messages.reduce((sum, message) => sum + message.content.length + (message.metadata?.length ?? 0), 0);

function windowWith(options: { maxTurns?: number; maxTokens?: number }): ContextWindow {
  const window = new ContextWindow({ maxTurns: options.maxTurns ?? 100, maxTokens: options.maxTokens ?? 1e9, countTokens: countCharacters });
  window.setSystem([system]);
  window.beginRun(input);
  return window;
}

const observations = (messages: ChatMessage[]) => messages.filter((message) => message.role === 'observation').map((message) => message.content);

describe('ContextWindow', () => {
  it('evicts the oldest turns by count, in a chunk down to the low-water mark, keeping pinned items', () => {
    const window = windowWith({ maxTurns: 5 });
    window.addTurn('plan', [{ role: 'assistant', content: 'PLAN' }]);
    for (let index = 1; index <= 4; index += 1) window.addTurn('tool', toolTurn(index));
    expect(window.messages()).toHaveLength(2 + 1 + 8);
    window.addTurn('tool', toolTurn(5));
    const messages = window.messages();
    // 6 turns > 5: evicted oldest first down to floor(5 * 0.6) = 3 turns.
    expect(window.evictedTurns).toBe(3);
    expect(messages[0]).toBe(system);
    expect(messages[1]).toBe(input);
    expect(messages.some((message) => message.content === 'PLAN')).toBe(false);
    expect(observations(messages)).toEqual(['result 3', 'result 4', 'result 5']);
  });

  it('keeps prompts append-only after a chunked eviction until the window fills again', () => {
    const window = windowWith({ maxTurns: 5 });
    for (let index = 1; index <= 6; index += 1) window.addTurn('tool', toolTurn(index));
    const afterEviction = window.messages();
    window.addTurn('tool', toolTurn(7));
    const next = window.messages();
    expect(next.slice(0, afterEviction.length)).toEqual(afterEviction);
    window.addTurn('tool', toolTurn(8));
    expect(window.messages().slice(0, next.length)).toEqual(next);
    expect(window.evictedTurns).toBe(3);
  });

  it('never evicts the latest tool turn or the newest turn, whatever the count limit', () => {
    const window = windowWith({ maxTurns: 1 });
    window.addTurn('tool', toolTurn(1));
    window.addTurn('tool', toolTurn(2));
    window.addTurn('plan', [{ role: 'user', content: 'REPLAN PLEASE' }]);
    const messages = window.messages();
    expect(observations(messages)).toEqual(['result 2']);
    expect(messages.at(-1)!.content).toBe('REPLAN PLEASE');
    expect(messages.slice(0, 2)).toEqual([system, input]);
  });

  it('evicts earlier runs before the current run, and by tokens', () => {
    const window = new ContextWindow({ maxTurns: 100, maxTokens: 60, countTokens: countCharacters });
    window.setSystem([system]);
    window.beginRun({ role: 'user', content: 'old question' });
    window.endRun({ role: 'assistant', content: 'old answer' });
    window.beginRun(input);
    window.addTurn('tool', toolTurn(1, 'x'.repeat(10)));
    expect(window.messages().map((message) => message.content)).toContain('old answer');
    window.addTurn('tool', toolTurn(2, 'y'.repeat(10)));
    // 6 + 5 + 12 + 10 + 7 + 17 + 7 + 17 = 81 > 60: evict the old exchange, then tool 1, down to 45 tokens.
    const messages = window.messages();
    expect(messages.map((message) => message.content)).not.toContain('old answer');
    expect(observations(messages)).toEqual(['y'.repeat(10)]);
    expect(countCharacters(messages)).toBeLessThanOrEqual(60);
    expect(window.evictedTurns).toBe(2);
  });

  it('also truncates the pinned call text when the result alone cannot make room (a call cut off at its token budget)', () => {
    const window = windowWith({ maxTokens: 400 });
    window.addTurn('tool', [
      { role: 'assistant', metadata: 'doc.read', content: `{"name": "${'g'.repeat(1000)}` },
      { role: 'observation', content: '{"error":{"code":"TOOL_CALL_FORMAT"}}' },
    ]);
    window.addTurn('note', [{ role: 'user', content: 'answer now' }]);
    const messages = window.messages();
    expect(countCharacters(messages)).toBeLessThanOrEqual(400);
    const call = messages.find((message) => message.role === 'assistant')!;
    expect(call.metadata).toBe('doc.read');
    expect(call.content).toMatch(/^\{"name": "g+\n\[truncated: /);
    expect(messages.at(-1)!.content).toBe('answer now');
  });

  it('truncates the pinned latest result when it alone does not fit, and says so', () => {
    const window = windowWith({ maxTokens: 200 });
    window.addTurn('tool', toolTurn(1, 'z'.repeat(1000)));
    const messages = window.messages();
    const observation = observations(messages)[0]!;
    expect(observation).toMatch(/^z+\n\[truncated: /);
    expect(countCharacters(messages)).toBeLessThanOrEqual(200);
    expect(window.truncations).toBe(1);
  });

  it('throws AgentError when the system messages and input alone exceed the budget', () => {
    const window = windowWith({ maxTokens: 5 });
    expect(() => window.messages()).toThrow(/context budget of 5 tokens/);
  });

  it('applies to agent runs: maxTurns evicts old tool turns but keeps the latest result in the prompt', async () => {
    const model = new ScriptedModel([
      'doc.read\n{"name":"a"}',
      'doc.read\n{"name":"b"}',
      'doc.read\n{"name":"c"}',
      'calc.add\n{"a":1,"b":2}',
      answer(),
    ]);
    const agent = new AutoAgent({ task: 'T', model, tools: testTools(), schema: Answer, plan: false, context: { maxTurns: 2 } });
    const result = await agent.run('go');
    expect(result.finishReason).toBe('answer');
    const last = model.calls[4]!.prompt;
    expect(last).not.toContain('DOCUMENT a:');
    expect(last).toContain('{"sum":3}');
    expect(last).toContain('<|user|>\ngo<|');
    expect(agent.context.evictedTurns).toBeGreaterThan(0);
  });

  it('defaults maxTokens to the model context minus the generation budget', async () => {
    const model = new ScriptedModel([plan('doc.read')], { contextLength: 1300 });
    const agent = new AutoAgent({ task: 'T', model, tools: testTools(), schema: Answer, generation: { maxNewTokens: 200 } });
    // The tools block and the system prompt alone are longer than 1300 - 200 tokens (one token per character here).
    await expect(agent.run('go')).rejects.toThrow(/over the context budget of 1100 tokens/);
    const roomy = new ScriptedModel([plan('doc.read'), 'doc.read\n{"name":"a"}', answer()], { contextLength: 4000 });
    const agent2 = new AutoAgent({ task: 'T', model: roomy, tools: testTools(), schema: Answer, generation: { maxNewTokens: 200 } });
    expect((await agent2.run('go')).finishReason).toBe('answer');
  });
});

function answer(): string {
  return '\n{"total":42,"label":"ok"}';
}
