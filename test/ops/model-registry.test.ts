/**
 * ModelRegistry on real ONNX Runtime: tiny GLMs with different seeds are different versions of one model.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoglmMetrics, ModelRegistryError, ModelRollbackError, ModelUpdateError, createTinyGlm } from '../../src/index';
import { ModelRegistry } from '../../src/server/model-registry';
import type { ModelRegistryEvent } from '../../src/server/model-registry-options';
import { modelVersionId } from '../../src/server/model-version-id';

let root: string;
const dirs: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const loadOptions = { threads: 1 };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'model-registry-'));
  for (const [key, seed] of [['a', 1], ['b', 2], ['c', 3]] as const) {
    dirs[key] = (await createTinyGlm(path.join(root, key), { seed })).directory;
  }
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('modelVersionId', () => {
  it('depends on the files, not on where the directory lives', async () => {
    const copy = path.join(root, 'a-copy');
    await cp(dirs.a, copy, { recursive: true });
    const [a, aCopy, b] = await Promise.all([modelVersionId(dirs.a), modelVersionId(copy), modelVersionId(dirs.b)]);
    expect(a.version).toMatch(/^v-[0-9a-f]{12}$/);
    expect(aCopy.version).toBe(a.version);
    expect(b.version).not.toBe(a.version);
    // A changed generation config is a new version too.
    const config = path.join(copy, 'generation_config.json');
    await writeFile(config, JSON.stringify({ ...JSON.parse(await readFile(config, 'utf8')), temperature: 0.5 }));
    expect((await modelVersionId(copy)).version).not.toBe(a.version);
    await rm(copy, { recursive: true, force: true });
  });
});

describe('ModelRegistry', () => {
  it('switches new requests to a new version while a running request finishes on its own', async () => {
    const events: ModelRegistryEvent[] = [];
    await using registry = new ModelRegistry({ loadOptions });
    registry.subscribe((event) => events.push(event));
    const first = await registry.update('chat', dirs.a);
    expect(first).toMatchObject({ name: 'chat', changed: true });
    expect(first.previousVersion).toBeUndefined();

    const lease = registry.acquire('chat');
    expect(lease.version).toBe(first.version);
    const stream = lease.model.stream('Once upon a time', { maxNewTokens: 48, temperature: 0 });
    const firstToken = await stream.next();
    expect(firstToken.done).toBe(false);

    const second = await registry.update('chat', dirs.b);
    expect(second.previousVersion).toBe(first.version);
    expect(second.loadMs).toBeGreaterThan(0);
    expect(registry.activeVersion('chat')).toBe(second.version);
    using next = registry.acquire('chat');
    expect(next.version).toBe(second.version);

    // The request that started on the first version runs to its end on it.
    let end: unknown;
    for await (const event of { [Symbol.asyncIterator]: () => stream }) if (event.type === 'end') end = event;
    expect(end).toMatchObject({ type: 'end', finishReason: expect.stringMatching(/stop|length/) });
    lease.release();
    lease.release(); // idempotent

    const [status] = registry.status();
    expect(status.active).toMatchObject({ version: second.version, loaded: true, inFlight: 1 });
    expect(status.previous).toMatchObject({ version: first.version, loaded: true, inFlight: 0 });
    expect(status.active.fileBytes).toBeGreaterThan(0);
    expect(events.map((event) => event.type)).toEqual(['model-load', 'model-update']);

    // The same directory again changes nothing.
    expect(await registry.update('chat', dirs.b)).toMatchObject({ changed: false, version: second.version });
  });

  it('rolls back to the warm previous version without loading, and forth again', async () => {
    await using registry = new ModelRegistry({ loadOptions });
    const first = await registry.update('chat', dirs.a);
    const second = await registry.update('chat', dirs.b);
    const started = performance.now();
    const back = await registry.rollback('chat');
    const elapsed = performance.now() - started;
    expect(back).toMatchObject({ version: first.version, previousVersion: second.version, loadMs: 0, changed: true });
    expect(elapsed).toBeLessThan(1000);
    await registry.use('chat', async (lease) => {
      expect(lease.version).toBe(first.version);
      expect((await lease.model.generate('Hi', { maxNewTokens: 2 })).tokenIds.length).toBeGreaterThan(0);
    });
    expect((await registry.rollback('chat')).version).toBe(second.version);
    expect(registry.status()[0].history.map((entry) => entry.action)).toEqual(['load', 'update', 'rollback', 'rollback']);
  });

  it('keeps a replaced version that still has requests until they finish, then unloads it', async () => {
    await using registry = new ModelRegistry({ loadOptions });
    const unloaded: string[] = [];
    registry.subscribe((event) => event.type === 'model-unload' && unloaded.push(event.version));
    const first = await registry.update('chat', dirs.a);
    const lease = registry.acquire('chat');
    await registry.update('chat', dirs.b);
    await registry.update('chat', dirs.c); // the first version is no longer the rollback target
    expect(registry.status()[0].draining).toMatchObject([{ version: first.version, inFlight: 1 }]);
    const result = await lease.model.generate('Still here', { maxNewTokens: 4 });
    expect(result.tokenIds.length).toBeGreaterThan(0);
    expect(unloaded).toEqual([]);
    lease.release();
    await expect.poll(() => unloaded).toEqual([first.version]);
    expect(registry.status()[0].draining).toEqual([]);
  });

  it('says so when a model handed out by get outlives its unloaded version', async () => {
    await using registry = new ModelRegistry({ loadOptions });
    await registry.update('chat', dirs.a);
    const provided = registry.get('chat')!;
    await provided.model.generate('Hi', { maxNewTokens: 1 }); // leases and releases its version
    await registry.update('chat', dirs.b);
    await registry.update('chat', dirs.c);
    await expect.poll(() => registry.status()[0].draining.length).toBe(0);
    await expect(provided.model.generate('Hi', { maxNewTokens: 1 })).rejects.toThrow(/was unloaded after later versions replaced it/);
    expect(registry.get('chat')!.version).toBe(registry.activeVersion('chat'));
  });

  it('leaves the serving version in place when the new one fails to load or to warm up', async () => {
    const metrics = new AutoglmMetrics();
    const broken = path.join(root, 'broken');
    await cp(dirs.b, broken, { recursive: true });
    await writeFile(path.join(broken, 'onnx', 'model.onnx'), 'not an onnx graph');
    let refuse = false;
    await using registry = new ModelRegistry({
      loadOptions,
      metrics,
      warm: async (model, context) => {
        if (refuse) throw new Error(`answers of ${context.version} failed the smoke test`);
        await model.generate('Hello', { maxNewTokens: 1 });
      },
    });
    const first = await registry.update('chat', dirs.a);

    const failure = await registry.update('chat', broken).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUpdateError);
    expect((failure as ModelUpdateError).message).toContain(`Version ${first.version} keeps serving`);
    expect((failure as ModelUpdateError).details).toMatchObject({ name: 'chat', activeVersion: first.version });
    refuse = true;
    await expect(registry.update('chat', dirs.c)).rejects.toThrow(/smoke test/);
    await expect(registry.update('chat', path.join(root, 'missing'))).rejects.toBeInstanceOf(ModelUpdateError);

    expect(registry.activeVersion('chat')).toBe(first.version);
    using lease = registry.acquire('chat');
    expect((await lease.model.generate('Hi', { maxNewTokens: 2 })).tokenIds.length).toBeGreaterThan(0);
    expect(registry.status()[0].history.filter((entry) => entry.action === 'update-failed')).toHaveLength(3);
    const text = await metrics.text();
    expect(text).toContain('autoglm_model_updates_total{model="chat",result="failure"} 3');
    expect(text).toContain(`autoglm_model_active_info{model="chat",version="${first.version}"} 1`);
    expect(text).toContain('autoglm_model_versions_loaded{model="chat"} 1');
  });

  it('refuses misuse with typed errors', async () => {
    await using registry = new ModelRegistry({ loadOptions });
    expect(() => registry.acquire('nope')).toThrow(ModelRegistryError);
    await expect(registry.update('../etc', dirs.a)).rejects.toBeInstanceOf(ModelRegistryError);
    expect(() => new ModelRegistry({ previousGraceMs: -1 })).toThrow(/previousGraceMs/);
    await registry.update('chat', dirs.a);
    await expect(registry.rollback('chat')).rejects.toBeInstanceOf(ModelRollbackError);
    expect(() => registry.acquire('other')).toThrow(/Known models: "chat"/);
  });

  it('unloads the previous version after its grace period and reloads it on rollback', async () => {
    await using registry = new ModelRegistry({ loadOptions, previousGraceMs: 0 });
    const first = await registry.update('chat', dirs.a);
    await registry.update('chat', dirs.b);
    await expect.poll(() => registry.status()[0].previous?.loaded).toBe(false);
    expect(registry.status()[0].draining).toEqual([]);
    const back = await registry.rollback('chat');
    expect(back.version).toBe(first.version);
    expect(back.loadMs).toBeGreaterThan(0);
  });

  it('hands out a model that tells its chat format and sequences as the loaded GlmModel does', async () => {
    await using registry = new ModelRegistry({ loadOptions: { ...loadOptions, sequences: 2 } });
    await registry.update('chat', dirs.a);
    const served = registry.get('chat')!.model;
    const lease = registry.acquire('chat');
    try {
      expect(served.sequences).toBe(2);
      expect(served.chatFormat).toBeDefined();
      expect(served.chatFormat).toEqual(lease.model.chatFormat);
    } finally {
      lease.release();
    }
  });

  it('comes back on the active version after a restart', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'model-registry-data-'));
    try {
      const before = await ModelRegistry.open({ dataDir, loadOptions, models: { chat: dirs.a } });
      const first = before.activeVersion('chat');
      const second = (await before.update('chat', dirs.b)).version;
      await before.update('chat', dirs.c);
      await before.rollback('chat'); // active: b, previous: c
      await before.dispose();

      // The configured directory (a) does not override the persisted active version (b).
      await using after = await ModelRegistry.open({ dataDir, loadOptions, models: { chat: dirs.a } });
      expect(after.activeVersion('chat')).toBe(second);
      const [status] = after.status();
      expect(status.previous).toMatchObject({ loaded: false });
      expect(status.history.map((entry) => entry.action)).toEqual(['load', 'update', 'update', 'rollback', 'load']);
      const back = await after.rollback('chat');
      expect(back.version).not.toBe(first);
      expect(back.version).toBe((await modelVersionId(dirs.c)).version);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
