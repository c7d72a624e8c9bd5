/**
 * Issue 18 (12): journal records carry a checksum; a record edited after it was written is refused on resume with
 * a typed CheckpointError (before: the edited output was replayed as if the step had produced it).
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckpointError, defineTool, ToolRegistry, Workflow } from '../../src/index';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-journal-checksum-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A run cancelled after step `a` ended: resumable, with a's output in the journal. */
async function cancelledRun(runId: string): Promise<{ workflow: Workflow; tools: ToolRegistry; file: string }> {
  const controller = new AbortController();
  const pay = defineTool({ name: 'pay', description: 'amount', input: z.object({}), execute: () => ({ amount: 10 }) });
  const wait = defineTool({
    name: 'wait',
    description: 'waits for the abort',
    input: z.object({ amount: z.number() }),
    execute: (_, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(0))),
  });
  const tools = new ToolRegistry([pay, wait]);
  const workflow = Workflow.define({
    name: 'payments',
    steps: [{ id: 'a', uses: 'pay' }, { id: 'b', uses: 'wait', needs: 'a', with: { amount: '${{ steps.a.output.amount }}' } }],
  });
  const running = workflow.run({ tools, checkpointDir: dir, runId, signal: controller.signal, onEvent: (event) => event.type === 'step-start' && event.stepId === 'b' && controller.abort() });
  await expect(running).resolves.toMatchObject({ status: 'cancelled' });
  return { workflow, tools, file: path.join(dir, `${runId}.jsonl`) };
}

describe('journal checksums', () => {
  it('every record carries a checksum, and an untouched journal resumes', async () => {
    const { workflow, tools, file } = await cancelledRun('intact');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    for (const line of lines) expect(line).toMatch(/,"sum":"[0-9a-f]{16}"\}$/);
    const resumed = Workflow.resume('intact', { checkpointDir: dir, tools, spec: workflow, signal: AbortSignal.timeout(200) });
    await expect(resumed).resolves.toMatchObject({ runId: 'intact' });
  });

  it('a tampered record is refused on resume with CheckpointError', async () => {
    const { workflow, tools, file } = await cancelledRun('tampered');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"output":{"amount":10}');
    await writeFile(file, text.replace('"output":{"amount":10}', '"output":{"amount":99999}'));
    const error = await Workflow.resume('tampered', { checkpointDir: dir, tools, spec: workflow }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/tampered\.jsonl record \d+ \(byte \d+\) does not match its checksum: the journal was edited/);
  });

  it('a checksum removed from a record is refused too', async () => {
    const { workflow, tools, file } = await cancelledRun('stripped');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1].replace(/,"sum":"[0-9a-f]{16}"\}$/, '}');
    await writeFile(file, lines.join('\n'));
    await expect(Workflow.resume('stripped', { checkpointDir: dir, tools, spec: workflow })).rejects.toThrow(/record 2 .* has no checksum/);
  });
});
