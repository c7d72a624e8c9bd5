/**
 * Issue 18 (12): a failure between creating a journal and making its header durable must not strand the run id
 * (before: a journal without header that neither resume nor a new run could use). Real ENOSPC on a 64 KB tmpfs.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useTinyTmpfs } from '../support/tiny-tmpfs';
import { CheckpointError, defineTool, ToolRegistry, Workflow } from '../../src/index';

const disk = useTinyTmpfs('workflow-journal-header-');

const echo = defineTool({ name: 'echo', description: 'echo', input: z.object({ text: z.string() }), execute: ({ text }) => text });

describe('journal header', () => {
  it('a header that cannot be written leaves no journal behind: the same run id starts once space is free', async (context) => {
    if (!disk.mounted) return context.skip(disk.skipReason);
    const runs = path.join(disk.full, 'runs');
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
    const folder = path.join(disk.root, 'plain');
    await mkdir(folder);
    await writeFile(path.join(folder, 'runs'), 'a file where the checkpoint folder should be');
    const workflow = Workflow.define({ name: 'plain', steps: [{ id: 'a', uses: 'echo', with: { text: 'x' } }] });
    await expect(workflow.run({ tools: new ToolRegistry([echo]), checkpointDir: path.join(folder, 'runs'), runId: 'r2' })).rejects.toThrow(CheckpointError);
  });
});
