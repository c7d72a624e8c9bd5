/**
 * Issue 18 (1): a full disk. The journal write fails with ENOSPC on a real, tiny tmpfs; `run()` rejects with a typed
 * CheckpointError and nothing else rejects unobserved (vitest fails the file on an unhandled rejection, which is
 * how the process died before), and the CLI prints `autoglm: CHECKPOINT: ...`, never a stack.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useTinyTmpfs } from '../support/tiny-tmpfs';
import { CheckpointError, defineTool, ToolRegistry, Workflow } from '../../src/index';
import { callMain } from '../cli/run-cli';

const disk = useTinyTmpfs('workflow-disk-full-');

const big = defineTool({ name: 'big', description: 'a large output', input: z.object({}), execute: () => 'x'.repeat(200_000) });

describe('a full disk under the journal', () => {
  it('run() rejects with CheckpointError and the process lives on (no unobserved rejection)', async (context) => {
    if (!disk.mounted) return context.skip(disk.skipReason);
    const workflow = Workflow.define({ name: 'fill', steps: [{ id: 'a', uses: 'big' }, { id: 'b', uses: 'big', needs: 'a' }] });
    const error = await workflow.run({ tools: new ToolRegistry([big]), checkpointDir: path.join(disk.full, 'runs') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/Cannot write the journal .*ENOSPC/);
    // Give any stray rejection time to surface; vitest turns it into a failure of this file.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('the CLI prints autoglm: CHECKPOINT: message, exit 1, no stack', async (context) => {
    if (!disk.mounted) return context.skip(disk.skipReason);
    const folder = path.join(disk.root, 'workflow');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'big.txt'), 'y'.repeat(200_000));
    await writeFile(path.join(folder, 'wf.yaml'), 'name: fill\nsteps:\n  - { id: read, uses: files.read, with: { path: big.txt } }\n');
    const result = await callMain(['run', path.join(folder, 'wf.yaml'), '--checkpoint-dir', path.join(disk.full, 'cli-runs'), '--json'], {
      cwd: folder,
      env: { AUTOGLM_CACHE_DIR: path.join(disk.root, 'cache') },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^autoglm: CHECKPOINT: Cannot (write|create) the journal .*ENOSPC/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
