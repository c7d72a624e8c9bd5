import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { CheckpointError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { readJournal, type JournalRecord } from '../../src/workflows/run-journal';
import { Workflow } from '../../src/workflows/workflow';
import { FakeToolCaller } from '../support/fake-tool-caller';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'wf-journal-'));
  const executions: string[] = [];
  const keys: string[] = [];
  let failNext = new Set<string>();
  const tools = new FakeToolCaller([
    defineTool({
      name: 'add',
      description: 'adds numbers, records each execution',
      input: z.object({ values: z.array(z.number()), ms: z.number().default(0) }),
      async execute({ values, ms }, ctx) {
        executions.push(ctx.stepId!);
        keys.push(ctx.idempotencyKey!);
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        if (failNext.has(ctx.stepId!)) {
          failNext.delete(ctx.stepId!);
          throw new Error('transient');
        }
        return { sum: values.reduce((a, b) => a + b, 0) };
      },
    }),
  ]);
  const wf = Workflow.fromYaml(`
name: sums
version: 1
inputs: { base: { type: number } }
steps:
  - { id: a, uses: add, with: { values: ["\${{ inputs.base }}", 1] } }
  - { id: b, uses: add, with: { values: ["\${{ inputs.base }}", 2] } }
  - { id: c, uses: add, needs: [a, b], with: { values: ["\${{ steps.a.output.sum }}", "\${{ steps.b.output.sum }}"] }, retry: { max: 2, initialMs: 1 } }
  - { id: d, uses: add, needs: [c], with: { values: ["\${{ steps.c.output.sum }}", 100] } }
outputs:
  total: \${{ steps.d.output.sum }}
`);
  return { dir, tools, wf, executions, keys, failOnce: (...ids: string[]) => (failNext = new Set(ids)) };
}

const journalLines = (dir: string, runId: string) => readFileSync(join(dir, `${runId}.jsonl`), 'utf8').split('\n').filter(Boolean);
const records = (dir: string, runId: string) => journalLines(dir, runId).map((line) => JSON.parse(line) as JournalRecord);

/** Keeps the journal up to (not including) the first record matching `cut`, as if the process died there. */
function crashAt(dir: string, runId: string, cut: (record: JournalRecord) => boolean) {
  const lines = journalLines(dir, runId);
  const index = lines.findIndex((line) => cut(JSON.parse(line)));
  writeFileSync(join(dir, `${runId}.jsonl`), lines.slice(0, index).map((line) => `${line}\n`).join(''));
}

describe('checkpoint journal', () => {
  it('records the header, every step start and end, and the run end, dependents after their needs ended', async () => {
    const { dir, tools, wf } = setup();
    const run = await wf.run({ tools, inputs: { base: 10 }, checkpointDir: dir, runId: 'j1' });
    expect(run.outputs).toEqual({ total: 123 });
    const all = records(dir, 'j1');
    expect(all[0]).toMatchObject({ type: 'run-header', format: 1, runId: 'j1', workflow: 'sums', specVersion: 1, specHash: wf.hash, inputs: { base: 10 } });
    expect(all.at(-1)).toMatchObject({ type: 'run-end', status: 'succeeded', outputs: { total: 123 } });
    const position = (type: string, stepId: string) => all.findIndex((r) => r.type === type && 'stepId' in r && r.stepId === stepId);
    for (const id of ['a', 'b', 'c', 'd']) expect(position('step-end', id)).toBeGreaterThan(position('step-start', id));
    expect(position('step-start', 'c')).toBeGreaterThan(Math.max(position('step-end', 'a'), position('step-end', 'b')));
    expect(position('step-start', 'd')).toBeGreaterThan(position('step-end', 'c'));
    expect(readJournal(dir, 'j1').tornTail).toBe(false);
  });

  it('resume runs only what did not end; the step in flight runs again with the same idempotency key', async () => {
    const { dir, tools, wf, executions, keys } = setup();
    const full = await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'r' });
    crashAt(dir, 'r', (r) => r.type === 'step-end' && r.stepId === 'c'); // c started, never ended
    executions.length = 0;
    keys.length = 0;
    const resumed = await Workflow.resume('r', { checkpointDir: dir, tools });
    expect(executions).toEqual(['c', 'd']);
    expect(keys).toEqual(['r:c:1', 'r:d:1']);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual(full.outputs);
    expect(resumed.steps.a).toMatchObject({ status: 'succeeded', output: { sum: 2 }, attempts: 1 });
    const ends = records(dir, 'r').filter((r) => r.type === 'step-end').map((r) => (r as { stepId: string }).stepId);
    expect(ends.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('continues retry counting across a resume', async () => {
    const { dir, tools, wf, keys, failOnce } = setup();
    failOnce('c');
    await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'retry' });
    expect(keys.filter((k) => k.includes(':c:'))).toEqual(['retry:c:1', 'retry:c:2']);
    crashAt(dir, 'retry', (r) => r.type === 'step-end' && r.stepId === 'c');
    keys.length = 0;
    const resumed = await Workflow.resume('retry', { checkpointDir: dir, tools });
    expect(keys).toEqual(['retry:c:2', 'retry:d:1']);
    expect(resumed.steps.c.attempts).toBe(2);
  });

  it('ignores and cuts off a half-written last line', async () => {
    const { dir, tools, wf, executions } = setup();
    await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'torn' });
    crashAt(dir, 'torn', (r) => r.type === 'step-end' && r.stepId === 'd');
    appendFileSync(join(dir, 'torn.jsonl'), '{"type":"step-end","stepId":"d","status":"succ');
    expect(readJournal(dir, 'torn').tornTail).toBe(true);
    executions.length = 0;
    const resumed = await Workflow.resume('torn', { checkpointDir: dir, tools });
    expect(executions).toEqual(['d']);
    expect(resumed.outputs).toEqual({ total: 105 });
    expect(readJournal(dir, 'torn').tornTail).toBe(false);
    for (const line of journalLines(dir, 'torn')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('refuses a journal corrupted before its last line', async () => {
    const { dir, tools, wf } = setup();
    await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'bad' });
    const lines = journalLines(dir, 'bad');
    lines[2] = lines[2].slice(0, 10);
    writeFileSync(join(dir, 'bad.jsonl'), lines.map((l) => `${l}\n`).join(''));
    await expect(Workflow.resume('bad', { checkpointDir: dir, tools })).rejects.toThrow(/is corrupt at byte \d+ \(record 3\)/);
  });

  it('refuses a journal from a different spec version with CheckpointError, accepts the same spec', async () => {
    const { dir, tools, wf } = setup();
    await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'v' });
    crashAt(dir, 'v', (r) => r.type === 'step-end' && r.stepId === 'd');
    const changed = Workflow.define({ ...wf.spec, version: 2 } as never);
    const error = await Workflow.resume('v', { checkpointDir: dir, tools, spec: changed }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('CHECKPOINT');
    expect((error as Error).message).toMatch(/started with another version of workflow "sums" \(journal spec [0-9a-f]{12}, version 1; given spec [0-9a-f]{12}, version 2\)/);
    const asYaml = stringify(wf.spec);
    await expect(Workflow.resume('v', { checkpointDir: dir, tools, spec: asYaml.replace('version: 1', 'version: 1.5') })).rejects.toBeInstanceOf(CheckpointError);
    const resumed = await Workflow.resume('v', { checkpointDir: dir, tools, spec: asYaml });
    expect(resumed.status).toBe('succeeded');
  });

  it('a run whose fail-policy step failed before the crash resumes as failed without starting dependents', async () => {
    const { dir, tools, executions } = setup();
    const wf = Workflow.define({
      name: 'failing',
      steps: [
        { id: 'bad', uses: 'add', with: { values: 'not a list' } as never },
        { id: 'after', uses: 'add', needs: ['bad'], with: { values: [1] } },
      ],
    });
    expect((await wf.run({ tools, checkpointDir: dir, runId: 'ff' })).status).toBe('failed');
    crashAt(dir, 'ff', (r) => r.type === 'run-end');
    executions.length = 0;
    const resumed = await Workflow.resume('ff', { checkpointDir: dir, tools });
    expect(resumed.status).toBe('failed');
    expect(resumed.steps.after.status).toBe('skipped');
    expect(executions).toEqual([]);
  });

  it('resuming a finished run returns its result without running anything', async () => {
    const { dir, tools, wf, executions } = setup();
    const first = await wf.run({ tools, inputs: { base: 5 }, checkpointDir: dir, runId: 'done' });
    executions.length = 0;
    const again = await Workflow.resume('done', { checkpointDir: dir, tools });
    expect(executions).toEqual([]);
    expect(again).toMatchObject({ runId: 'done', status: 'succeeded', outputs: first.outputs });
    expect(again.steps.d).toMatchObject({ status: 'succeeded', attempts: 1, output: first.steps.d.output });
  });

  it('a cancelled run can be resumed to completion', async () => {
    const { dir, tools, executions } = setup();
    const wf = Workflow.define({
      name: 'slow',
      steps: [
        { id: 'a', uses: 'add', with: { values: [1] } },
        { id: 'b', uses: 'add', needs: ['a'], with: { values: [2], ms: 2000 } },
        { id: 'c', uses: 'add', needs: ['b'], with: { values: ['${{ steps.b.output.sum }}', 1] } },
      ],
    });
    const controller = new AbortController();
    const running = wf.run({ tools, checkpointDir: dir, runId: 'cx', signal: controller.signal, onEvent: (e) => e.type === 'step-start' && e.stepId === 'b' && setTimeout(() => controller.abort(), 20) });
    expect((await running).status).toBe('cancelled');
    expect(executions).toEqual(['a', 'b']);
    executions.length = 0;
    const fast = new FakeToolCaller([defineTool({ name: 'add', description: '', input: z.object({ values: z.array(z.number()), ms: z.number().optional() }), execute: ({ values }, ctx) => (executions.push(ctx.stepId!), { sum: values.reduce((x, y) => x + y, 0) }) })]);
    const resumed = await Workflow.resume('cx', { checkpointDir: dir, tools: fast });
    expect(executions).toEqual(['b', 'c']);
    expect(resumed).toMatchObject({ status: 'succeeded', outputs: { a: { sum: 1 }, b: { sum: 2 }, c: { sum: 3 } } });
  });

  it('refuses to start a second run under an existing runId, bad runIds and missing journals', async () => {
    const { dir, tools, wf } = setup();
    await wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'twice' });
    await expect(wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: 'twice' })).rejects.toThrow(/already has a journal/);
    await expect(wf.run({ tools, inputs: { base: 1 }, checkpointDir: dir, runId: '../escape' })).rejects.toBeInstanceOf(CheckpointError);
    await expect(Workflow.resume('nothing-here', { checkpointDir: dir, tools })).rejects.toThrow(/No journal for run "nothing-here"/);
  });
});
