/**
 * Tool approval in the agent loop: a call to a tool with `needsApproval` pauses the run before the tool runs; the
 * run continues with the decisions (also from a JSON round trip of its state, as another process would), approved
 * calls run, denied ones reach the model as observations with the reason; bad decisions are typed errors.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import type { AgentEvent, AgentResult } from '../../src/agent/agent-events';
import type { AgentPausedState } from '../../src/agent/tool-approval';
import { AutoglmError, ToolApprovalError, ToolRegistryError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { fileTools } from '../../src/tools/file-tools';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel } from '../support/scripted-model';
import { promptMessages } from './helpers';

function paymentTools(log: string[]) {
  return [
    defineTool({
      name: 'bank.pay',
      description: 'Pay an amount to a recipient',
      input: z.object({ to: z.string(), amount: z.number() }),
      // Only large payments need a person.
      needsApproval: ({ amount }) => amount > 100,
      execute: ({ to, amount }) => {
        log.push(`paid ${amount} to ${to}`);
        return { paid: amount, to };
      },
    }),
    defineTool({
      name: 'bank.balance',
      description: 'The account balance',
      input: z.object({}),
      execute: () => {
        log.push('balance');
        return { balance: 1000 };
      },
    }),
  ];
}

function paused(result: AgentResult): Extract<AgentResult, { finishReason: 'approval-required' }> {
  if (result.finishReason !== 'approval-required') throw new Error(`expected a paused run, got ${result.finishReason}`);
  return result;
}

const roundTrip = (state: AgentPausedState): AgentPausedState => JSON.parse(JSON.stringify(state)) as AgentPausedState;

describe('tool approval in the agent loop', () => {
  it('pauses before a call that needs approval, with the pending call, an event and a JSON state; approve runs it', async () => {
    const log: string[] = [];
    const model = new ScriptedModel(['bank.pay\n{"to": "ACME", "amount": 500}', '\nPaid.']);
    const agent = new AutoAgent({ task: 'Pay the invoice.', model, tools: paymentTools(log), plan: false, maxSteps: 4 });
    const events: AgentEvent[] = [];
    for await (const event of agent.stream('Pay ACME 500.')) events.push(event);
    const first = paused((events.at(-1) as Extract<AgentEvent, { type: 'final' }>).result);
    expect(log).toEqual([]); // the tool body never ran
    expect(first.pendingApprovals).toEqual([{ id: 'call-1-1', name: 'bank.pay', args: { to: 'ACME', amount: 500 } }]);
    expect(first.output).toBeUndefined();
    expect([...new Set(events.map((event) => event.type))]).toEqual(['step-start', 'text-delta', 'tool-call', 'tool-approval-request', 'final']);
    expect(events.find((event) => event.type === 'tool-approval-request')).toEqual({ type: 'tool-approval-request', step: 1, approval: first.pendingApprovals[0] });

    // A fresh agent (as in another process) continues from the JSON state.
    const other = new AutoAgent({ task: 'Pay the invoice.', model, tools: paymentTools(log), plan: false, maxSteps: 4 });
    const done = await other.resume(roundTrip(first.state), [{ id: 'call-1-1', approved: true }]);
    expect(done).toMatchObject({ finishReason: 'answer', output: 'Paid.' });
    expect(log).toEqual(['paid 500 to ACME']);
    expect(done.steps.map((step) => step.kind)).toEqual(['tool', 'answer']);
    expect(done.steps[0]!.result).toEqual({ ok: true, value: { paid: 500, to: 'ACME' } });
    // The model's second prompt holds the call and its real observation, exactly once.
    const prompt = model.calls[1]!.prompt;
    expect(prompt.split('"paid":500').length - 1).toBe(1);
    expect(promptMessages(prompt).at(-2)).toMatchObject({ role: 'observation' });
    expect(done.usage.generations).toBe(2);
  });

  it('deny: the tool never runs and the model sees the reason as the call\'s observation', async () => {
    const log: string[] = [];
    const model = new ScriptedModel(['bank.pay\n{"to": "Mallory", "amount": 9000}', '\nNot paid.']);
    const agent = new AutoAgent({ task: 'Pay the invoice.', model, tools: paymentTools(log), plan: false, maxSteps: 4 });
    const first = paused(await agent.run('Pay Mallory 9000.'));
    const done = await agent.resume(first.state, [{ id: 'call-1-1', approved: false, reason: 'Mallory is not a supplier of ours' }]);
    expect(log).toEqual([]);
    expect(done).toMatchObject({ finishReason: 'answer', output: 'Not paid.' });
    expect(done.steps[0]!.result).toMatchObject({ ok: false, error: { code: 'TOOL_DENIED' } });
    const observation = promptMessages(model.calls[1]!.prompt).findLast((message) => message.role === 'observation')!;
    expect(observation.body).toContain('TOOL_DENIED');
    expect(observation.body).toContain('Mallory is not a supplier of ours');
    expect(observation.body).toContain('did not run');
  });

  it('needsApproval as a function of the arguments: a small payment runs at once, a large one waits', async () => {
    const log: string[] = [];
    const model = new ScriptedModel(['bank.pay\n{"to": "ACME", "amount": 20}', 'bank.pay\n{"to": "ACME", "amount": 200}', '\nDone.']);
    const agent = new AutoAgent({ task: 'Pay.', model, tools: paymentTools(log), plan: false, maxSteps: 5 });
    const first = paused(await agent.run('Pay 20, then 200.'));
    expect(log).toEqual(['paid 20 to ACME']);
    expect(first.pendingApprovals).toEqual([{ id: 'call-2-1', name: 'bank.pay', args: { to: 'ACME', amount: 200 } }]);
    expect(first.steps.map((step) => step.kind)).toEqual(['tool']);
    const done = await agent.resume(first.state, [{ id: 'call-2-1', approved: true, by: 'alice' }]);
    expect(done.finishReason).toBe('answer');
    expect(log).toEqual(['paid 20 to ACME', 'paid 200 to ACME']);
  });

  it('a turn with several calls waits whole: none runs before the decisions, then approved and free calls run together', async () => {
    const log: string[] = [];
    const model = new ScriptedModel(['bank.balance\n{}<|assistant|>bank.pay\n{"to": "A", "amount": 300}<|assistant|>bank.pay\n{"to": "B", "amount": 400}', '\nDone.'], {
      chatTemplate: 'glm4-0414',
    });
    const agent = new AutoAgent({ task: 'Pay.', model, tools: paymentTools(log), plan: false, maxSteps: 4 });
    const first = paused(await agent.run('Pay A and B.'));
    expect(log).toEqual([]);
    expect(first.pendingApprovals.map((approval) => approval.id)).toEqual(['call-1-2', 'call-1-3']);
    // Only the calls that wait take a decision; the free call has none.
    await expect(agent.resume(first.state, [{ id: 'call-1-1', approved: true }, { id: 'call-1-2', approved: true }, { id: 'call-1-3', approved: true }])).rejects.toMatchObject({
      code: 'TOOL_APPROVAL',
      details: { kind: 'unknown-call', ids: ['call-1-1'] },
    });
    const done = await agent.resume(first.state, [{ id: 'call-1-3', approved: false }, { id: 'call-1-2', approved: true }]);
    expect(log.sort()).toEqual(['balance', 'paid 300 to A']);
    expect(done.steps.filter((step) => step.kind === 'tool').map((step) => step.result?.ok)).toEqual([true, true, false]);
  });

  it('malformed decisions are typed errors naming the call: unknown id, missing, twice, bad shape, bad state', async () => {
    const model = new ScriptedModel(['bank.pay\n{"to": "ACME", "amount": 500}'], { fallback: '\nDone.' });
    const agent = new AutoAgent({ task: 'Pay.', model, tools: paymentTools([]), plan: false, maxSteps: 4 });
    const { state } = paused(await agent.run('Pay.'));
    const cases: Array<[unknown, string, RegExp]> = [
      [[{ id: 'call-9-9', approved: true }], 'unknown-call', /no pending call has the id "call-9-9"; the calls waiting for a decision are "call-1-1"/],
      [[], 'missing-decision', /no decision for "call-1-1"/],
      [[{ id: 'call-1-1', approved: true }, { id: 'call-1-1', approved: false }], 'duplicate-decision', /more than one decision for "call-1-1"/],
      [[{ id: 'call-1-1', approved: 'yes' }], 'malformed', /\(call call-1-1\): approved must be true or false, got "yes"/],
      ['approve all', 'malformed', /decisions must be an array/],
    ];
    for (const [decisions, kind, message] of cases) {
      const error = await agent.resume(state, decisions as never).catch((caught: unknown) => caught);
      expect(ToolApprovalError.isInstance(error), String(error)).toBe(true);
      expect((error as AutoglmError).details).toMatchObject({ kind });
      expect((error as Error).message).toMatch(message);
    }
    await expect(agent.resume(state, [{ id: 'call-1-1', aproved: true } as never])).rejects.toThrow(/unknown field "aproved" \(did you mean "approved"\?\)/);
    await expect(agent.resume({ ...state, pending: { ...state.pending, calls: [] } }, [])).rejects.toMatchObject({ code: 'TOOL_APPROVAL', details: { kind: 'malformed' } });
    const otherTask = new AutoAgent({ task: 'Something else.', model, tools: paymentTools([]), plan: false });
    await expect(otherTask.resume(state, [{ id: 'call-1-1', approved: true }])).rejects.toThrow(/another task/);
    const noTools = new AutoAgent({ task: 'Pay.', model, plan: false });
    await expect(noTools.resume(state, [{ id: 'call-1-1', approved: true }])).rejects.toThrow(/use bank.pay, which this agent's tools lack/);
    // A failed resume leaves the state usable, and so does a successful one: the same state resumes again alike.
    const once = await agent.resume(state, [{ id: 'call-1-1', approved: true }]);
    const twice = await agent.resume(state, [{ id: 'call-1-1', approved: true }]);
    expect(once.finishReason).toBe('answer');
    expect(twice.steps).toHaveLength(once.steps.length);
    expect(twice.usage).toEqual(once.usage);
  });

  it('resumes within a session: the session keeps the exchange for its next run', async () => {
    const log: string[] = [];
    const model = new ScriptedModel(['bank.pay\n{"to": "ACME", "amount": 500}', '\nPaid ACME.', '\nYou paid ACME.']);
    const agent = new AutoAgent({ task: 'Pay.', model, tools: paymentTools(log), plan: false, maxSteps: 4 });
    const session = agent.session();
    const first = paused(await agent.run('Pay ACME 500.', { session }));
    expect((await agent.resume(first.state, [{ id: 'call-1-1', approved: true }], { session })).output).toBe('Paid ACME.');
    await agent.run('Whom did I pay?', { session });
    const prompt = model.calls[2]!.prompt;
    expect(prompt).toContain('Pay ACME 500.');
    expect(prompt).toContain('Paid ACME.');
    expect(log).toEqual(['paid 500 to ACME']);
  });

  it('a repeated call needs no approval (it never runs) and a policy that throws asks', async () => {
    const log: string[] = [];
    const tools = [
      defineTool({
        name: 'mail.send',
        description: 'Send mail',
        input: z.object({ to: z.string() }),
        needsApproval: () => {
          throw new Error('policy service down');
        },
        execute: ({ to }) => {
          log.push(to);
          return 'sent';
        },
      }),
    ];
    const model = new ScriptedModel(['mail.send\n{"to": "a@example.org"}'], { fallback: '\nDone.' });
    const agent = new AutoAgent({ task: 'Mail.', model, tools, plan: false, maxSteps: 3 });
    const first = paused(await agent.run('go'));
    expect(first.pendingApprovals[0]!.name).toBe('mail.send');
    expect((await agent.resume(first.state, [{ id: 'call-1-1', approved: true }])).finishReason).toBe('answer');
    expect(log).toEqual(['a@example.org']);
  });
});

describe('files.write needs approval by default', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'autoglm-approval-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('an agent pauses before files.write; the file exists only after approval', async () => {
    const tools = new ToolRegistry(fileTools, { roots: [root], allowWrites: true });
    const model = new ScriptedModel(['files.write\n{"path": "note.txt", "text": "hello"}', '\nWritten.']);
    const agent = new AutoAgent({ task: 'Write a note.', model, tools, plan: false, maxSteps: 3 });
    const first = paused(await agent.run('Write hello to note.txt.'));
    expect(first.pendingApprovals).toEqual([{ id: 'call-1-1', name: 'files.write', args: { path: 'note.txt', text: 'hello' } }]);
    await expect(readFile(path.join(root, 'note.txt'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    const done = await agent.resume(roundTrip(first.state), [{ id: 'call-1-1', approved: true }]);
    expect(done.finishReason).toBe('answer');
    expect(await readFile(path.join(root, 'note.txt'), 'utf8')).toBe('hello');
  });

  it('a trusted setup turns it off explicitly with the registry option needsApproval', async () => {
    const tools = new ToolRegistry(fileTools, { roots: [root], allowWrites: true, needsApproval: { 'files.write': false } });
    const model = new ScriptedModel(['files.write\n{"path": "trusted.txt", "text": "ok"}', '\nWritten.']);
    const result = await new AutoAgent({ task: 'Write.', model, tools, plan: false, maxSteps: 3 }).run('go');
    expect(result.finishReason).toBe('answer');
    expect(await readFile(path.join(root, 'trusted.txt'), 'utf8')).toBe('ok');
    expect(tools.approvalPolicy('files.write')).toBe(false);
    expect(await new ToolRegistry(fileTools).needsApproval('files.write', { path: 'a', text: '' }, { callId: 'c' })).toBe(true);
  });

  it('registry and defineTool refuse bad approval options', async () => {
    expect(() => new ToolRegistry(fileTools, { needsApproval: { 'files.write': 'no' as never } })).toThrow(ToolRegistryError);
    const typo = new ToolRegistry(fileTools, { needsApproval: { 'files.wrte': true } });
    await expect(typo.needsApproval('files.write', {}, { callId: 'c' })).rejects.toThrow(/"files.wrte", which no registered tool has/);
    expect(() =>
      defineTool({ name: 'x.y', description: '', input: z.object({}), requireApproval: true, execute: () => 1 } as never),
    ).toThrow(/unknown option "requireApproval" \(did you mean "needsApproval"\?\)/);
    expect(() => new ToolRegistry([{ ...fileTools[0]!, needsApproval: 'always' as never }])).toThrow(/needsApproval must be a boolean or a function/);
  });
});
