/**
 * Durable suspension in workflows (library): an agent step whose agent waits for approval suspends the run in the
 * journal; `Workflow.resume(runId, { decisions })` journals the decisions and continues; bad decisions and
 * resuming a run that waits for none are typed errors. (The CLI in child processes: test/cli/run-approval.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, readJournal, ToolRegistry, Workflow } from '../../src/index';
import { ScriptedModel } from '../support/scripted-model';
import { promptMessages } from '../agent/helpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-approval-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tools(sent: string[], echoed: string[]) {
  return new ToolRegistry([
    defineTool({
      name: 'mail.send',
      description: 'Send an e-mail',
      input: z.object({ to: z.string(), body: z.string() }),
      needsApproval: true,
      execute: ({ to }) => {
        sent.push(to);
        return { sent: to };
      },
    }),
    defineTool({
      name: 'echo',
      description: 'echo',
      input: z.object({ value: z.string() }),
      execute: ({ value }) => {
        echoed.push(value);
        return value;
      },
    }),
  ]);
}

const spec = `
name: notify
steps:
  - id: mail
    agent: { task: Tell the customer the report is ready, tools: [mail.send], plan: false, maxSteps: 3 }
    with: { customer: "a@example.org" }
  - { id: side, uses: echo, with: { value: independent } }
  - { id: after, uses: echo, needs: mail, with: { value: "\${{ steps.mail.output }}" } }
`;

describe('workflow suspension for tool approval', () => {
  it('suspends durably, refuses bad decisions, then continues with an approval and journals it', async () => {
    const sent: string[] = [];
    const echoed: string[] = [];
    const model = new ScriptedModel(['mail.send\n{"to": "a@example.org", "body": "Ready."}', '\nMail sent.']);
    const workflow = Workflow.fromYaml(spec);
    const events: string[] = [];
    const first = await workflow.run({ tools: tools(sent, echoed), model, checkpointDir: dir, runId: 'approve-1', onEvent: (event) => events.push(event.type) });
    expect(first.status).toBe('suspended');
    expect(first.pendingApprovals).toEqual([
      { id: 'mail.call-1-1', stepId: 'mail', callId: 'call-1-1', name: 'mail.send', args: { to: 'a@example.org', body: 'Ready.' } },
    ]);
    expect(first.steps).toMatchObject({ mail: { status: 'suspended' }, side: { status: 'succeeded' }, after: { status: 'pending' } });
    expect(sent).toEqual([]);
    expect(events).toContain('step-suspend');
    const journal = readJournal(dir, 'approve-1').records;
    expect(journal.find((record) => record.type === 'step-suspend')).toMatchObject({ stepId: 'mail', pending: [{ id: 'call-1-1', name: 'mail.send' }] });
    expect(journal.at(-1)).toMatchObject({ type: 'run-end', status: 'suspended' });

    // Bad decisions change nothing in the journal.
    const length = journal.length;
    const resume = (decisions?: unknown) =>
      Workflow.resume('approve-1', { checkpointDir: dir, tools: tools(sent, echoed), model, ...(decisions === undefined ? {} : { decisions: decisions as never }) });
    await expect(resume()).rejects.toMatchObject({ code: 'TOOL_APPROVAL', details: { kind: 'missing-decision', ids: ['mail.call-1-1'] } });
    await expect(resume([{ id: 'call-1-1', approved: true }])).rejects.toMatchObject({ code: 'TOOL_APPROVAL', details: { kind: 'unknown-call' } });
    await expect(resume([{ id: 'mail.call-1-1', approved: true }, { id: 'mail.call-1-1', approved: true }])).rejects.toMatchObject({ details: { kind: 'duplicate-decision' } });
    expect(readJournal(dir, 'approve-1').records.length).toBe(length);

    const done = await resume([{ id: 'mail.call-1-1', approved: true, reason: 'customer asked', by: 'alice' }]);
    expect(done.status).toBe('succeeded');
    expect(done.pendingApprovals).toBeUndefined();
    expect(sent).toEqual(['a@example.org']);
    expect(echoed).toEqual(['independent', 'Mail sent.']); // `side` ran once, before the suspension
    expect(readJournal(dir, 'approve-1').records.find((record) => record.type === 'step-decisions')).toMatchObject({
      stepId: 'mail',
      decisions: [{ id: 'call-1-1', approved: true, reason: 'customer asked', by: 'alice' }],
      at: expect.any(Number),
    });
    // Resuming a finished run with decisions is an error; without, it returns the journaled result.
    await expect(resume([{ id: 'mail.call-1-1', approved: true }])).rejects.toMatchObject({ code: 'TOOL_APPROVAL', details: { kind: 'not-suspended' } });
    expect((await resume()).status).toBe('succeeded');
  });

  it('a denied call reaches the model as the observation and the run finishes', async () => {
    const sent: string[] = [];
    const model = new ScriptedModel(['mail.send\n{"to": "a@example.org", "body": "Ready."}', '\nI did not send it.']);
    const first = await Workflow.fromYaml(spec).run({ tools: tools(sent, []), model, checkpointDir: dir, runId: 'deny-1' });
    expect(first.status).toBe('suspended');
    const done = await Workflow.resume('deny-1', { checkpointDir: dir, tools: tools(sent, []), model, decisions: [{ id: 'mail.call-1-1', approved: false, reason: 'wrong customer' }] });
    expect(done.status).toBe('succeeded');
    expect(done.steps.mail.output).toBe('I did not send it.');
    expect(sent).toEqual([]);
    const observation = promptMessages(model.calls[1]!.prompt).findLast((message) => message.role === 'observation')!;
    expect(observation.body).toContain('wrong customer');
    expect(observation.body).toContain('TOOL_DENIED');
  });

  it('decisions journaled before an interruption are kept: the next resume continues with them, asking nothing', async () => {
    const sent: string[] = [];
    const model = new ScriptedModel(['mail.send\n{"to": "c@example.org", "body": "Ready."}', '\nSent.']);
    expect((await Workflow.fromYaml(spec).run({ tools: tools(sent, []), model, checkpointDir: dir, runId: 'interrupt-1' })).status).toBe('suspended');
    const stopped = new AbortController();
    stopped.abort();
    const cancelled = await Workflow.resume('interrupt-1', {
      checkpointDir: dir,
      tools: tools(sent, []),
      model,
      signal: stopped.signal,
      decisions: [{ id: 'mail.call-1-1', approved: true }],
    });
    expect(cancelled.status).toBe('cancelled');
    expect(sent).toEqual([]);
    const done = await Workflow.resume('interrupt-1', { checkpointDir: dir, tools: tools(sent, []), model });
    expect(done.status).toBe('succeeded');
    expect(sent).toEqual(['c@example.org']);
    expect(readJournal(dir, 'interrupt-1').records.filter((record) => record.type === 'step-decisions')).toHaveLength(1);
  });

  it('a run that failed while a step waited is not suspended: decisions for it are refused', async () => {
    const registry = tools([], []);
    registry.register(defineTool({ name: 'boom', description: 'fails', input: z.object({}), execute: () => { throw new Error('disk on fire'); } }));
    const model = new ScriptedModel(['mail.send\n{"to": "d@example.org", "body": "Ready."}']);
    const failing = Workflow.fromYaml(`${spec}  - { id: broken, uses: boom }\n`);
    const run = await failing.run({ tools: registry, model, checkpointDir: dir, runId: 'failed-1' });
    expect(run.status).toBe('failed');
    expect(run.steps.mail!.status).toBe('suspended');
    await expect(Workflow.resume('failed-1', { checkpointDir: dir, tools: registry, model, decisions: [{ id: 'mail.call-1-1', approved: true }] })).rejects.toMatchObject({
      code: 'TOOL_APPROVAL',
      details: { kind: 'not-suspended', status: 'failed' },
    });
  });

  it('a registry-level needsApproval reaches agent steps (the step picks tools from the registry)', async () => {
    const sent: string[] = [];
    const registry = tools(sent, []);
    const trusted = new ToolRegistry(registry.list(), { needsApproval: { 'mail.send': false } });
    const model = new ScriptedModel(['mail.send\n{"to": "b@example.org", "body": "Ready."}', '\nSent.']);
    const run = await Workflow.fromYaml(spec).run({ tools: trusted, model });
    expect(run.status).toBe('succeeded');
    expect(sent).toEqual(['b@example.org']);
  });
});
