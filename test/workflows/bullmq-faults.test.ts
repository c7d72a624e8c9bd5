/**
 * Scale-out under faults, with a real redis-server (append-only) and real `autoglm worker` child processes:
 * SIGKILL of workers in the middle of steps at seeded points, a killed coordinator resumed from the CLI, a Redis
 * restart mid-run, and a worker whose connection drops. Every run must end with the outputs of a local run, and a
 * body whose attempt was recorded must never run again (each body writes a side-effect file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/models/generation/random-generator';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { BullmqExecutor } from '../../src/workflows/executors/bullmq-executor';
import { Workflow } from '../../src/workflows/workflow';
import type { WorkflowSpecInput } from '../../src/workflows/workflow-spec';
import { bin, repositoryRoot, runCli } from '../cli/run-cli';
import { RedisServer } from '../support/redis-server';
import { busyPids, faultPlugin, randomDag, readEffects, spawnWorker, type WorkerProcess } from '../support/scale-out-fixtures';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scale-out faults (real Redis, real worker processes)', () => {
  let redis: RedisServer;
  let dir: string;
  let effects: string;
  let env: NodeJS.ProcessEnv;
  let localTools: ToolRegistry;
  const workers = new Set<WorkerProcess>();
  const everyWorker: WorkerProcess[] = [];
  const children = new Set<ChildProcess>();
  const executors: BullmqExecutor[] = [];

  const startWorker = (url = redis.url) => {
    const worker = spawnWorker(url, env);
    workers.add(worker);
    everyWorker.push(worker);
    void worker.exited.then(() => workers.delete(worker));
    return worker;
  };

  /** The reference: the same spec on the local executor, in this process. */
  const localOutputs = async (spec: WorkflowSpecInput) => {
    // Outputs digest the inputs only, not the sleep: the reference need not wait.
    const quick = { ...spec, steps: spec.steps.map((step) => ({ ...step, with: { ...(step.with as object), ms: 0 } })) };
    return (await Workflow.define(quick).run({ tools: localTools, runId: `local-${spec.name}-${Date.now()}` })).outputs;
  };

  /** No body ran again after a live worker had run it: every start followed by another start is a killed pid's. */
  const expectNoRecordedRerun = (runId: string, killed: Set<number>) => {
    const seen = readEffects(effects, runId);
    expect(seen.size).toBeGreaterThan(0);
    for (const [key, lines] of seen) {
      const starts = lines.filter((line) => line.what === 'start');
      for (const start of starts.slice(0, -1)) expect(killed.has(start.pid), `${key}: ${JSON.stringify(lines)}`).toBe(true);
      expect(lines.some((line) => line.what === 'end'), key).toBe(true);
    }
  };

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    dir = mkdtempSync(join(tmpdir(), 'autoglm-faults-'));
    effects = join(dir, 'effects');
    mkdirSync(effects);
    env = { ...process.env, AUTOGLM_TEST_EFFECTS_DIR: effects };
    process.env.AUTOGLM_TEST_EFFECTS_DIR = effects;
    localTools = new ToolRegistry([], { roots: [dir] });
    await localTools.use(faultPlugin);
  });

  afterAll(async () => {
    for (const executor of executors) await executor.close().catch(() => undefined);
    for (const worker of workers) worker.child.kill('SIGKILL');
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([...workers].map((worker) => worker.exited));
    delete process.env.AUTOGLM_TEST_EFFECTS_DIR;
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILLs workers mid-step at >= 20 seeded points: every run ends as locally and no recorded body runs again', async () => {
    for (let index = 0; index < 3; index++) startWorker();
    await Promise.all([...workers].map((worker) => worker.ready));
    const executor = new BullmqExecutor({ connection: redis.url, resyncIntervalMs: 500 });
    executors.push(executor);
    const random = seededRandom(16);
    const killed = new Set<number>();
    let kills = 0;
    let takeovers = 0;
    // Rounds go on until 20 kills landed mid-step (each kill waits for a ready replacement, slower on a loaded machine).
    for (let round = 0; round < 10 && kills < 20; round++) {
      const spec = randomDag(100 + round, 30, [300, 700]);
      const roundStart = Date.now();
      const runId = `kill-${round}`;
      const expected = await localOutputs(spec);
      let done = false;
      const stepKills = new Map<string, number>();
      const pending = Workflow.define(spec)
        .run({ executor, runId })
        .finally(() => (done = true));
      while (!done) {
        await sleep(150 + random() * 350);
        const ready = [...workers].filter((worker) => worker.child.exitCode === null && worker.stderr().includes('worker ready'));
        const busy = busyPids(effects, runId);
        // A step may be taken over at most maxStalledCount (5) times before it fails with STEP_STALLED, as designed:
        // kill no step's worker more than twice, so the run must succeed (a quiet machine hands a step straight back
        // to a fresh worker, which the next kill would hit again; on a loaded one a live worker's late lock renewal
        // can count a stall too, hence the margin and the 2.5 s lock in the fixture).
        const victims = ready.filter((worker) => (busy.get(worker.pid) ?? []).some((key) => (stepKills.get(key) ?? 0) < 2));
        if (done || victims.length === 0 || ready.length < 2) continue;
        const victim = victims[Math.floor(random() * victims.length)]!;
        for (const key of busy.get(victim.pid) ?? []) stepKills.set(key, (stepKills.get(key) ?? 0) + 1);
        killed.add(victim.pid);
        victim.child.kill('SIGKILL');
        kills += 1;
        startWorker();
      }
      const run = await pending;
      const failedSteps = Object.entries(run.steps).filter(([, step]) => step.status !== 'succeeded');
      expect(run.status, JSON.stringify(failedSteps)).toBe('succeeded');
      expect(run.outputs).toEqual(expected);
      expectNoRecordedRerun(runId, killed);
      // Bodies run again after a kill (the takeovers this test is about), each first started by a killed worker.
      takeovers += [...readEffects(effects, runId).values()].reduce((sum, lines) => sum + lines.filter((line) => line.what === 'start').length - 1, 0);
      console.log(`round ${round}: ${Date.now() - roundStart} ms, kills so far ${kills}, takeovers ${takeovers}`);
    }
    expect(kills).toBeGreaterThanOrEqual(20);
    // A kill can land just after a body ended; most leave a body that another worker takes over.
    expect(takeovers).toBeGreaterThanOrEqual(kills / 2);
    // The workers that took a stalled job over say so (pino, warn level, on stderr).
    expect(everyWorker.some((worker) => /"msg":"step-takeover"/.test(worker.stderr()))).toBe(true);
  }, 240_000);

  it('resumes a SIGKILLed `autoglm run --redis` coordinator with --resume: same outputs, no body run twice', async () => {
    while (workers.size < 3) startWorker();
    await Promise.all([...workers].map((worker) => worker.ready));
    const spec = randomDag(7, 20, [150, 400]);
    const file = join(dir, 'cli-dag.yaml');
    writeFileSync(file, JSON.stringify(spec, null, 2));
    const expected = await localOutputs(spec);
    const coordinator = spawn(process.execPath, [bin, 'run', file, '--redis', redis.url, '--plugin', faultPlugin, '--run-id', 'cli-1', '--json'], { cwd: repositoryRoot, stdio: 'ignore', env });
    children.add(coordinator);
    await expect.poll(() => readEffects(effects, 'cli-1').size, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    coordinator.kill('SIGKILL');
    const resumed = await runCli(['run', file, '--redis', redis.url, '--plugin', faultPlugin, '--resume', 'cli-1', '--json'], { env: env as Record<string, string> });
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout);
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual(expected);
    for (const [key, lines] of readEffects(effects, 'cli-1')) expect(lines.filter((line) => line.what === 'start'), key).toHaveLength(1);
  }, 90_000);

  it('rides through a Redis restart (append-only) in the middle of a run', async () => {
    while (workers.size < 3) startWorker();
    await Promise.all([...workers].map((worker) => worker.ready));
    const spec = randomDag(9, 24, [200, 500]);
    const expected = await localOutputs(spec);
    const executor = new BullmqExecutor({ connection: redis.url, resyncIntervalMs: 500 });
    executors.push(executor);
    const pending = Workflow.define(spec).run({ executor, runId: 'restart-1' });
    await expect.poll(() => readEffects(effects, 'restart-1').size, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(5);
    await redis.restart(500);
    const run = await pending;
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual(expected);
    // No kills here: a body never starts again after it ended (its outcome was recorded).
    for (const [key, lines] of readEffects(effects, 'restart-1')) {
      const firstEnd = lines.findIndex((line) => line.what === 'end');
      expect(lines.slice(firstEnd + 1).some((line) => line.what === 'start'), `${key}: ${JSON.stringify(lines)}`).toBe(false);
    }
  }, 90_000);

  it('a worker that loses its connection takes no work meanwhile and rejoins when Redis is reachable again', async () => {
    // The worker reaches Redis through a TCP proxy that this test cuts and restores.
    const sockets = new Set<Socket>();
    const listen = (server: Server, port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const proxy = () =>
      createServer((client) => {
        const upstream = connect(redis.port, '127.0.0.1');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      });
    let server = proxy();
    await listen(server, 0);
    const port = (server.address() as { port: number }).port;
    const proxied = startWorker(`redis://127.0.0.1:${port}`);
    await proxied.ready;
    while (workers.size < 2) startWorker();
    await Promise.all([...workers].map((worker) => worker.ready));
    const executor = new BullmqExecutor({ connection: redis.url, resyncIntervalMs: 500 });
    executors.push(executor);

    const cutAt = Date.now();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
    const during = await Workflow.define(randomDag(11, 16, [100, 250])).run({ executor, runId: 'cut-1' });
    const restoredAt = Date.now();
    expect(during.status).toBe('succeeded');
    const starts = (runId: string) => [...readEffects(effects, runId).values()].flat().filter((line) => line.what === 'start' && line.pid === proxied.pid);
    expect(starts('cut-1').filter((line) => line.at > cutAt + 200 && line.at < restoredAt)).toEqual([]);

    server = proxy();
    await listen(server, port);
    // Rejoined: with the other workers stopped, only the proxied one can run the next run's steps.
    for (const worker of [...workers]) {
      if (worker === proxied) continue;
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const after = await Workflow.define(randomDag(12, 8, [50, 100])).run({ executor, runId: 'cut-2' });
    expect(after.status).toBe('succeeded');
    expect(starts('cut-2').length).toBe(8);
    proxied.child.kill('SIGTERM');
    await proxied.exited;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await stopped;
  }, 90_000);
});
