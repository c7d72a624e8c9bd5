/**
 * `autoglm serve` as a process: it prints where it listens, refuses a public host without a key (exit 2), stops
 * on SIGTERM, and a run interrupted by SIGKILL is resumed by the next server on the same --data-dir.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe, type ServedProcess } from '../support/serve-process';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import { callMain, repositoryRoot, runCli } from '../cli/run-cli';

const fixtures = path.join(import.meta.dirname, 'fixtures');
let root = '';
let modelDir = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'serve-process-'));
  modelDir = (await createTinyGlm(path.join(root, 'model'), { seed: 2 })).directory;
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Starts `autoglm serve` on port 0 with the tiny model; resolves once it printed its URL. */
function serve(args: string[]): Promise<ServedProcess> {
  return spawnServe(['--model', `tiny=${modelDir}`, ...args], children);
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('autoglm serve', () => {
  it('documents its options and refuses malformed ones with exit code 2', async () => {
    const options = { cwd: repositoryRoot, env: {} };
    const help = await callMain(['serve', '--help'], options);
    expect(help.code).toBe(0);
    for (const option of ['--model NAME=DIR', '--api-key', '--data-dir', '--workflows', '--plugin', '--sequences N']) expect(help.stdout).toContain(option);
    expect((await callMain(['--help'], options)).stdout).toContain('serve ');
    for (const args of [['--model', 'nodir'], ['--model', 'a=x', '--model', 'a=y'], ['--port', '70000'], ['--port', 'x'], ['--sequences', '0'], ['--sequences', '2.5'], ['--frobnicate']]) {
      const run = await callMain(['serve', ...args], options);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/autoglm: USAGE: serve/);
      if (args[0] === '--sequences') expect(run.stderr).toContain(`--sequences must be an integer >= 1, got "${args[1]}"`);
    }
  });

  it('--sequences N: each model runs N requests at once, and admits --max-queued more', async () => {
    const served = await serve(['--sequences', '2', '--max-queued', '3', '--data-dir', path.join(root, 'data-sequences')]);
    try {
      const metrics = await (await fetch(`${served.url}/metrics`)).text();
      expect(metrics).toMatch(/^autoglm_server_queue_limit\{model="tiny"\} 5$/m);
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
    }
  });

  it('refuses a non-loopback host without an API key, with exit code 2', async () => {
    const run = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--model', `tiny=${modelDir}`], { env: { AUTOGLM_API_KEY: '' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('refusing to listen on 0.0.0.0 without --api-key');
  });

  it('resumes a run that was interrupted by SIGKILL, without re-running its finished step', async () => {
    const dataDir = path.join(root, 'data');
    const args = ['--data-dir', dataDir, '--workflows', path.join(fixtures, 'workflows'), '--plugin', path.join(fixtures, 'slow-plugin.mjs'), '--api-key', 'secret-key-1'];
    const headers = { authorization: 'Bearer secret-key-1', 'content-type': 'application/json' };
    const first = await serve(args);
    expect((await fetch(`${first.url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const created = await fetch(`${first.url}/v1/runs`, { method: 'POST', headers, body: JSON.stringify({ workflow: 'slow-pair', inputs: { label: 'q1' } }) });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const get = async (url: string) => (await (await fetch(`${url}/v1/runs/${id}`, { headers })).json()) as { status: string; steps: Record<string, { status: string }>; outputs: Record<string, unknown>; model: unknown };
    await poll(() => get(first.url), (run) => run.steps.wait?.status === 'running');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await serve(args);
    const done = await poll(() => get(second.url), (run) => run.status !== 'running');
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ result: 'q1 done' });
    expect(done.model).toMatchObject({ name: 'tiny' });
    const journal = readFileSync(path.join(dataDir, 'runs', `${id}.jsonl`), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; stepId?: string });
    expect(journal.filter((record) => record.type === 'step-start' && record.stepId === 'first')).toHaveLength(1);
    expect(journal.filter((record) => record.type === 'step-start' && record.stepId === 'wait')).toHaveLength(2);

    // SSE replays the events of this server's part of the run and ends after run-end.
    const events = await (await fetch(`${second.url}/v1/runs/${id}/events`, { headers })).text();
    expect(events).toContain('event: run-end');

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stderr()).toContain('shutting down');
  });
});
