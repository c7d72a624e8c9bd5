/**
 * Issue 18 (12): a failure between creating a journal and making its header durable must not strand the run id
 * (before: a journal without header that neither resume nor a new run could use). Real ENOSPC on a 64 KB tmpfs.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckpointError, defineTool, ToolRegistry, Workflow } from '../../src/index';

let root: string;
let full: string;
let mounted = false;
let skipReason = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'workflow-journal-header-'));
  full = path.join(root, 'full');
  await mkdir(full);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    skipReason = `cannot mount a 64 KB tmpfs here (${(error as Error).message.split('\n')[0]}); needs root`;
  }
});

afterAll(async () => {
  if (mounted) execFileSync('umount', [full]);
  await rm(root, { recursive: true, force: true });
});

const echo = defineTool({ name: 'echo', description: 'echo', input: z.object({ text: z.string() }), execute: ({ text }) => text });

describe('journal header', () => {
  it('a header that cannot be written leaves no journal behind: the same run id starts once space is free', async (context) => {
    if (!mounted) return context.skip(skipReason);
    const runs = path.join(full, 'runs');
    await mkdir(runs);
    // The spec (copied into the header) is larger than the free space.
    const workflow = Workflow.define({ name: 'header', steps: [{ id: 'a', uses: 'echo', with: { text: 'z'.repeat(100_000) } }] });
    const tools = new ToolRegistry([echo]);
    const error = await workflow.run({ tools, checkpointDir: runs, runId: 'r1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/Cannot create the journal .*r1\.jsonl: ENOSPC/);
    expect(await readdir(runs)).toEqual([]);

    const small = Workflow.define({ name: 'header', steps: [{ id: 'a', uses: 'echo', with: { text: 'small' } }] });
    await expect(small.run({ tools, checkpointDir: runs, runId: 'r1' })).resolves.toMatchObject({ status: 'succeeded', outputs: { a: 'small' } });
    await expect(small.run({ tools, checkpointDir: runs, runId: 'r1' })).rejects.toThrow(/already has a journal/);
  });

  it('without a mount: a run id whose header write failed is not stranded (unwritable folder)', async () => {
    const folder = path.join(root, 'plain');
    await mkdir(folder);
    await writeFile(path.join(folder, 'runs'), 'a file where the checkpoint folder should be');
    const workflow = Workflow.define({ name: 'plain', steps: [{ id: 'a', uses: 'echo', with: { text: 'x' } }] });
    await expect(workflow.run({ tools: new ToolRegistry([echo]), checkpointDir: path.join(folder, 'runs'), runId: 'r2' })).rejects.toThrow(CheckpointError);
  });
});
