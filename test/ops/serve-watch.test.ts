/**
 * `autoglm serve --watch FILE` with an admin key from AUTOGLM_ADMIN_KEY, as a process: editing the models file
 * hot-updates the model, the admin API rolls it back, and a restart on the same --data-dir comes back on the
 * version that was active.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnServe, type ServedProcess } from '../support/serve-process';
import { createTinyGlm } from '../../src/index';
import { modelVersionId } from '../../src/server/model-version-id';

const adminKey = 'watch-admin-key';
let root = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ops-serve-watch-'));
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

function serve(args: string[]): Promise<ServedProcess> {
  return spawnServe(args, children, { ...process.env, AUTOGLM_ADMIN_KEY: adminKey });
}

async function servedVersion(url: string): Promise<string> {
  const body = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string; version: string }[] };
  return body.data.find((model) => model.id === 'chat')!.version;
}

it('hot-updates from the models file, rolls back over the admin API, and restarts on the active version', async () => {
  const a = (await createTinyGlm(path.join(root, 'a'), { seed: 11 })).directory;
  const b = (await createTinyGlm(path.join(root, 'b'), { seed: 12 })).directory;
  const [va, vb] = [(await modelVersionId(a)).version, (await modelVersionId(b)).version];
  const modelsFile = path.join(root, 'models.yaml');
  const dataDir = path.join(root, 'data');
  await writeFile(modelsFile, 'models:\n  chat: ./a\n');

  const first = await serve(['--watch', modelsFile, '--data-dir', dataDir]);
  expect(await servedVersion(first.url)).toBe(va);
  await writeFile(modelsFile, 'models:\n  chat: ./b\n');
  await expect.poll(() => servedVersion(first.url), { timeout: 30_000, interval: 100 }).toBe(vb);
  expect(first.stderr()).toContain(`model chat now serves ${vb}`);

  const rollback = await fetch(`${first.url}/admin/models/chat/rollback`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` } });
  expect(await rollback.json()).toMatchObject({ version: va, previousVersion: vb });
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  // The file still names b, but the rollback is what an operator did last: the restart serves a.
  const second = await serve(['--watch', modelsFile, '--data-dir', dataDir]);
  expect(await servedVersion(second.url)).toBe(va);
  const listed = (await (await fetch(`${second.url}/admin/models`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
    models: { previous?: { version: string; loaded: boolean } }[];
  };
  expect(listed.models[0]?.previous).toMatchObject({ version: vb, loaded: false });
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});
