/**
 * Issue 18 item 5: an AutoAgent shared by a service used to keep every run's exchange in its context, so client A's
 * file name and answer reached client B's prompt. History across runs is now an explicit session.
 */
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/errors';
import { AutoAgent } from '../../src/agent/auto-agent';
import { ScriptedModel } from '../support/scripted-model';

describe('AutoAgent runs share nothing unless given a session', () => {
  it("keeps client A's input and answer out of client B's prompt", async () => {
    const model = new ScriptedModel(['\nA: revenue of acme-private.pdf is 12.', '\nB: done.']);
    const agent = new AutoAgent({ task: 'Answer', model });
    await agent.run('client A asks about acme-private.pdf');
    await agent.run('client B asks about its own file');
    const promptB = model.calls[1]!.prompt;
    expect(promptB).toContain('client B asks');
    expect(promptB).not.toContain('acme-private');
    expect(promptB).not.toContain('client A');
    // The latest run's own window holds only its own exchange.
    expect(JSON.stringify(agent.context.turns())).not.toContain('acme-private');
  });

  it('keeps each session to itself when sessions interleave', async () => {
    const model = new ScriptedModel(['\nanswer A1', '\nanswer B1', '\nanswer A2', '\nanswer B2']);
    const agent = new AutoAgent({ task: 'Chat', model });
    const a = agent.session();
    const b = agent.session();
    await agent.run('question A1', { session: a });
    await agent.run('question B1', { session: b });
    await agent.run('question A2', { session: a });
    await agent.run('question B2', { session: b });
    const [, , promptA2, promptB2] = model.calls.map((call) => call.prompt);
    expect(promptA2).toContain('question A1');
    expect(promptA2).toContain('answer A1');
    expect(promptA2).not.toMatch(/B1/);
    expect(promptB2).toContain('answer B1');
    expect(promptB2).not.toMatch(/A1|A2/);
    expect(a.context.turns()).toHaveLength(2);
  });

  it("refuses another agent's session, or a plain object, with AgentError", async () => {
    const model = new ScriptedModel([], { fallback: '\nok' });
    const agent = new AutoAgent({ task: 'Chat', model });
    const other = new AutoAgent({ task: 'Chat', model });
    await expect(agent.run('x', { session: other.session() })).rejects.toBeInstanceOf(AgentError);
    await expect(agent.run('x', { session: { context: agent.context } as never })).rejects.toThrow(/made by this agent/);
    expect(model.calls).toHaveLength(0);
  });
});
