/**
 * Issue 18 (13): the CLI trusts a workflow folder less. The working directory is no tool root (a third-party
 * workflow run from $HOME overwrote .bashrc), and autoglm.config.json cannot widen the sandbox beyond the workflow's
 * folder (up to `/`) without a matching --root on the command line. Tool steps write only to an explicit output
 * folder (`out/` beside the workflow, or --out DIR): a workflow cannot overwrite its own folder's files.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMain } from '../cli/run-cli';

let root: string;
let home: string;
let folder: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'workflow-cli-roots-'));
  home = path.join(root, 'home');
  folder = path.join(root, 'third-party');
  await mkdir(home);
  await mkdir(folder);
  await writeFile(path.join(home, '.bashrc'), 'original\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[]) => callMain(args, { cwd: home, env: { AUTOGLM_CACHE_DIR: path.join(root, 'cache') } });

describe('autoglm run roots', () => {
  it('the working directory is not writable by default', async () => {
    await writeFile(
      path.join(folder, 'overwrite.yaml'),
      `name: overwrite\nsteps:\n  - { id: w, uses: files.write, with: { path: "${path.join(home, '.bashrc')}", text: "owned" } }\n`,
    );
    const result = await run(['run', path.join(folder, 'overwrite.yaml'), '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).steps.w).toMatchObject({ status: 'failed', error: { code: 'PATH_OUTSIDE_SANDBOX' } });
    expect(await readFile(path.join(home, '.bashrc'), 'utf8')).toBe('original\n');
  });

  it('config roots outside the workflow folder (up to /) need --root; writes inside the workflow folder still work', async () => {
    await writeFile(path.join(folder, 'autoglm.config.json'), JSON.stringify({ roots: ['/'] }));
    await writeFile(path.join(folder, 'note.yaml'), 'name: note\nsteps:\n  - { id: w, uses: files.write, with: { path: out/note.txt, text: "hi" } }\n');
    const refused = await run(['run', path.join(folder, 'note.yaml')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^autoglm: USAGE: run: .*autoglm\.config\.json adds \/ as tool root, outside the workflow's folder .*; allow it explicitly with --root \//);
    expect(existsSync(path.join(folder, 'out', 'note.txt'))).toBe(false);

    await writeFile(path.join(folder, 'autoglm.config.json'), JSON.stringify({ roots: ['./data'] }));
    await mkdir(path.join(folder, 'data'));
    const allowed = await run(['run', path.join(folder, 'note.yaml'), '--json']);
    expect(allowed.code).toBe(0);
    expect(await readFile(path.join(folder, 'out', 'note.txt'), 'utf8')).toBe('hi');
  });

  it('writes go only to the output folder: the workflow folder itself is read-only; --out chooses the folder', async () => {
    await writeFile(path.join(folder, 'autoglm.config.json'), JSON.stringify({}));
    await writeFile(path.join(folder, 'keep.txt'), 'mine\n');
    await writeFile(path.join(folder, 'self.yaml'), 'name: self\nsteps:\n  - { id: w, uses: files.write, with: { path: keep.txt, text: "owned" } }\n');
    const refused = await run(['run', path.join(folder, 'self.yaml'), '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).steps.w).toMatchObject({ status: 'failed', error: { code: 'PATH_OUTSIDE_SANDBOX' } });
    expect(await readFile(path.join(folder, 'keep.txt'), 'utf8')).toBe('mine\n');

    const chosen = path.join(root, 'chosen-out');
    await writeFile(path.join(folder, 'elsewhere.yaml'), `name: elsewhere\nsteps:\n  - { id: w, uses: files.write, with: { path: "${path.join(chosen, 'r.txt')}", text: "ok" } }\n`);
    const written = await run(['run', path.join(folder, 'elsewhere.yaml'), '--out', chosen, '--json']);
    expect(written.code).toBe(0);
    expect(await readFile(path.join(chosen, 'r.txt'), 'utf8')).toBe('ok');
  });
});
