/**
 * `autoglm agent` on a tiny model and `autoglm run` with checkpoints and --resume, in process through `main`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMain } from './run-cli';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';

let temp: string;
let modelDir: string;
beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), 'autoglm-cli-commands-'));
  modelDir = path.join(temp, 'model');
  await createTinyGlm(modelDir, { seed: 2 });
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

const call = (args: string[]) => callMain(args, { cwd: temp, env: { AUTOGLM_CACHE_DIR: path.join(temp, 'cache') } });

describe('autoglm agent', () => {
  it('answers a free-text request on --model with --json', async () => {
    const result = await call(['agent', '--task', 'Greet the user', '--model', modelDir, '--max-steps', '1', '--max-new-tokens', '6', '--seed', '1', '--json', 'hello']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ steps: 1, usage: { generations: 1 } });
    expect(['answer', 'max-steps']).toContain(parsed.finishReason);
    expect(typeof parsed.output).toBe('string');
    expect(parsed.usage.completionTokens).toBeGreaterThan(0);
    expect(parsed.usage.completionTokens).toBeLessThanOrEqual(6);
  });

  it('refuses unknown --tools with exit 2 before loading a model', async () => {
    const result = await call(['agent', '--task', 'Read it', '--tools', 'pdf.extract,web.fetch', '--model', '/nonexistent', 'hi']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^autoglm: USAGE: agent: --tools: unknown tools web\.fetch; available: pdf\.extract, pdf\.search/);
  });
});

describe('autoglm run with checkpoints', () => {
  it('journals a run with --checkpoint-dir and --run-id; --resume returns the journaled result without running again', async () => {
    const workflow = path.join(temp, 'list.yaml');
    await writeFile(path.join(temp, 'note.txt'), 'hello from a file');
    await writeFile(
      workflow,
      [
        'name: read-and-copy',
        'inputs: { file: { type: string, default: note.txt } }',
        'steps:',
        '  - id: read',
        '    uses: files.read',
        '    with: { path: "${{ inputs.file }}" }',
        '  - id: copy',
        '    uses: files.write',
        '    needs: read',
        '    with: { path: out/copy.txt, text: "copied: ${{ steps.read.output.text }}" }',
        'outputs: { text: "${{ steps.read.output.text }}", bytes: "${{ steps.copy.output.bytes }}" }',
        '',
      ].join('\n'),
    );
    const first = await call(['run', workflow, '--checkpoint-dir', 'runs', '--run-id', 'r1', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ runId: 'r1', status: 'succeeded', outputs: { text: 'hello from a file', bytes: 25 } });
    await rm(path.join(temp, 'out', 'copy.txt'));
    const resumed = await call(['run', workflow, '--checkpoint-dir', 'runs', '--resume', 'r1', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId: 'r1', status: 'succeeded', outputs: { text: 'hello from a file', bytes: 25 } });
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(temp, 'out', 'copy.txt'))).toBe(false);
    const missing = await call(['run', workflow, '--checkpoint-dir', 'runs', '--resume', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^autoglm: CHECKPOINT: /);
  });

  it('a failed step makes exit code 1 and the result says which step and why', async () => {
    const workflow = path.join(temp, 'fail.yaml');
    await writeFile(workflow, 'name: fail\nsteps:\n  - id: read\n    uses: files.read\n    with: { path: missing.txt }\n');
    const result = await call(['run', workflow]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/read: failed \(/);
    expect(result.stdout).toMatch(/Run run-\S+ of fail: failed/);
  });
});
