/**
 * Shared by the scale-out fault tests and benchmark: seeded random DAGs of `fault.step` steps, `autoglm worker`
 * child processes, and reading the steps' side-effect files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../src/models/generation/random-generator';
import type { WorkflowSpecInput } from '../../src/workflows/workflow-spec';
import { bin, repositoryRoot } from '../cli/run-cli';

export const faultPlugin = join(repositoryRoot, 'test', 'fixtures', 'plugins', 'fault-steps-plugin.mjs');

/** `count` steps; each needs up to two earlier ones and digests their outputs, so the outputs check the whole DAG. */
export function randomDag(seed: number, count: number, msRange: [number, number]): WorkflowSpecInput {
  const random = seededRandom(seed);
  const steps = Array.from({ length: count }, (_, index) => {
    const needs = index === 0 ? [] : [...new Set([Math.floor(random() * index), Math.floor(random() * index)])];
    const ms = msRange[0] + Math.floor(random() * (msRange[1] - msRange[0]));
    return {
      id: `s${index}`,
      uses: 'fault.step',
      needs: needs.map((need) => `s${need}`),
      with: { ms, inputs: { index, from: Object.fromEntries(needs.map((need) => [`s${need}`, `\${{ steps.s${need}.output.digest }}`])) } },
    };
  });
  return { name: `dag-${seed}`, concurrency: 6, steps };
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  ready: Promise<void>;
  exited: Promise<void>;
  stderr: () => string;
}

/** Starts `autoglm worker` with the fault plugin and fast stalled-job takeover. */
export function spawnWorker(redisUrl: string, env: NodeJS.ProcessEnv, extra: string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    [bin, 'worker', '--redis', redisUrl, '--plugin', faultPlugin, '--concurrency', '2', '--lock-duration', '2500', '--stalled-interval', '500', ...extra],
    { cwd: repositoryRoot, stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('worker ready')) resolve();
    });
    void exited.then(() => reject(new Error(`worker exited before it was ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, pid: child.pid!, ready, exited, stderr: () => stderr };
}

export interface Effect {
  what: 'start' | 'end';
  pid: number;
  at: number;
}

/** The side-effect lines of every attempt of a run, by idempotency key (`:` written as `_`). */
export function readEffects(dir: string, runId: string): Map<string, Effect[]> {
  const effects = new Map<string, Effect[]>();
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(`${runId}_`)) continue;
    const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n');
    effects.set(
      file.slice(0, -'.log'.length),
      lines.map((line) => {
        const [what, pid, at] = line.split(' ');
        return { what: what as Effect['what'], pid: Number(pid), at: Number(at) };
      }),
    );
  }
  return effects;
}

/** Pids with a body started and not ended in `runId`. */
export function busyPids(dir: string, runId: string): Map<number, string[]> {
  const busy = new Map<number, string[]>();
  for (const [key, lines] of readEffects(dir, runId)) {
    const open = new Map<number, number>();
    for (const line of lines) open.set(line.pid, (open.get(line.pid) ?? 0) + (line.what === 'start' ? 1 : -1));
    for (const [pid, count] of open) if (count > 0) busy.set(pid, [...(busy.get(pid) ?? []), key]);
  }
  return busy;
}
