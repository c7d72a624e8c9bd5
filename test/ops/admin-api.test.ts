/**
 * The admin API and hot updates under load, on a real server over loopback with tiny ONNX models: four clients
 * keep chatting while versions are updated and rolled back; no request fails and both versions answer.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { createServer } from '../../src/server/create-server';
import type { ModelRegistry } from '../../src/server/model-registry';
import { modelVersionId } from '../../src/server/model-version-id';
import { runChatLoad } from './chat-load';
import { startRegistryServer, type RegistryServer } from './registry-server';

const adminKey = 'admin-key-for-tests';
const apiKey = 'api-key-for-tests';
let root: string;
let dirs: { a: string; b: string; broken: string };
let versions: { a: string; b: string };
let registry: ModelRegistry;
let served: RegistryServer | undefined;
let url: string;

const admin = (route: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${url}${route}`, {
    ...init,
    headers: { authorization: `Bearer ${init.key ?? adminKey}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
  });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
const json = (response: Response): Promise<any> => response.json();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ops-admin-'));
  const a = (await createTinyGlm(path.join(root, 'a'), { seed: 1 })).directory;
  const b = (await createTinyGlm(path.join(root, 'b'), { seed: 2 })).directory;
  const broken = path.join(root, 'broken');
  await cp(b, broken, { recursive: true });
  await writeFile(path.join(broken, 'config.json'), '{ "model_type": ');
  dirs = { a, b, broken };
  versions = { a: (await modelVersionId(a)).version, b: (await modelVersionId(b)).version };
  served = await startRegistryServer({ tiny: a }, { apiKey, adminKey, warmup: false });
  ({ registry, url } = served);
}, 120_000);

afterAll(async () => {
  await served?.close();
  await rm(root, { recursive: true, force: true });
});

describe('admin API', () => {
  it('is off without an admin key, and takes only the admin key', async () => {
    const plain = await createServer({ models: registry, port: 0, warmup: false });
    try {
      const plainUrl = await plain.listen();
      expect((await fetch(`${plainUrl}/admin/models`)).status).toBe(404);
    } finally {
      await plain.close();
    }
    expect((await admin('/admin/models', { key: 'wrong-key-123' })).status).toBe(401);
    const withApiKey = await admin('/admin/models', { key: apiKey });
    expect(withApiKey.status).toBe(401);
    expect((await json(withApiKey)).error.message).toContain('admin key');
    // The admin key is not an API key either.
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${adminKey}` } })).status).toBe(401);
    await expect(createServer({ models: { tiny: registry.get('tiny')!.model }, port: 0, adminKey, warmup: false })).rejects.toThrow(/ModelRegistry/);
  });

  it('lists, updates and rolls back, answering failures with typed errors', async () => {
    const listed = await json(await admin('/admin/models'));
    expect(listed.models).toMatchObject([{ name: 'tiny', active: { version: versions.a, loaded: true }, queueDepth: 0 }]);

    const bad = await admin('/admin/models/tiny/update', { method: 'POST', body: JSON.stringify({ path: dirs.broken }) });
    expect(bad.status).toBe(422);
    expect((await json(bad)).error).toMatchObject({ code: 'SERVER_REQUEST', param: 'path', message: expect.stringContaining(`Version ${versions.a} keeps serving`) });
    const extra = await admin('/admin/models/tiny/update', { method: 'POST', body: JSON.stringify({ path: dirs.b, force: true }) });
    expect(extra.status).toBe(400);
    expect((await json(extra)).error.param).toBe('force');
    expect((await admin('/admin/models/nope/update', { method: 'POST', body: JSON.stringify({ path: dirs.b }) })).status).toBe(404);
    expect((await admin('/admin/models/tiny/rollback', { method: 'POST' })).status).toBe(409);

    const updated = await admin('/admin/models/tiny/update', { method: 'POST', body: JSON.stringify({ path: dirs.b }) });
    expect(updated.status).toBe(200);
    expect(await json(updated)).toMatchObject({ name: 'tiny', version: versions.b, previousVersion: versions.a, changed: true });
    const chat = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true }),
    });
    expect(chat.headers.get('x-autoglm-model-version')).toBe(versions.b);
    await chat.text();

    const rolled = await admin('/admin/models/tiny/rollback', { method: 'POST' });
    expect(await json(rolled)).toMatchObject({ version: versions.a, previousVersion: versions.b, loadMs: 0 });
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } })).text();
    expect(metrics).toContain('autoglm_model_updates_total{model="tiny",result="failure"} 1');
    expect(metrics).toContain(`autoglm_model_active_info{model="tiny",version="${versions.a}"} 1`);
  });

  it('serves every request through updates and rollbacks under load (4 clients)', async () => {
    const switches: string[] = [];
    let answeredByB = 0;
    const load = await runChatLoad({
      url,
      apiKey,
      model: 'tiny',
      clients: 4,
      maxTokens: 4,
      onAnswer: ({ version }) => {
        if (version === versions.b) answeredByB += 1;
      },
      during: async () => {
        for (let round = 0; round < 3; round += 1) {
          const up = await admin('/admin/models/tiny/update', { method: 'POST', body: JSON.stringify({ path: dirs.b }) });
          switches.push((await json(up)).version);
          // Roll back only once the load has been served by the new version (on a fast machine the update and the
          // rollback could otherwise both land between two answers).
          const before = answeredByB;
          for (const until = Date.now() + 30_000; answeredByB === before && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
          const back = await admin('/admin/models/tiny/rollback', { method: 'POST' });
          switches.push((await json(back)).version);
        }
      },
    });
    expect(switches).toEqual([versions.b, versions.a, versions.b, versions.a, versions.b, versions.a]);
    expect(load.failed).toEqual([]);
    expect(load.ok).toBeGreaterThan(8);
    expect(Object.keys(load.byVersion).sort()).toEqual([versions.a, versions.b].sort());
  });
});
