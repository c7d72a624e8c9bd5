/**
 * Crash suite: child processes run checkpointed workflows and are killed with SIGKILL at seeded points (after N
 * observed side effects); the runs are then resumed (sometimes crashed again while resuming, in a second child) and
 * finished in-process. Each child runs six staggered runs at once, so one kill interrupts each of them at a
 * different point.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/workflows/run-journal';
import { seededRandom } from '../../src/models/generation/random-generator';
import { Workflow } from '../../src/workflows/workflow';
import type { WorkflowRunResult } from '../../src/workflows/workflow-types';
import { crashTools, crashWorkflow, type CrashChildConfig } from './fixtures/crash-workflow';

const outerSteps = crashWorkflow.spec.steps.map((step) => step.id);
const childSource = resolve(__dirname, 'fixtures/crash-child.ts');
let childCommand: string[];
let baseline: { outputs: Map<number, WorkflowRunResult['outputs']>; executions: Map<string, number> };
const interruptions: string[] = [];

interface Snapshot {
  lineCount: number;
  completed: Map<string, Set<string>>;
}

const readLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const parseLine = (line: string) => {
  const [runId, stepId] = line.split(':');
  return { runId, stepId };
};

function completedSteps(dir: string, runId: string): Set<string> | undefined {
  try {
    const { records } = readJournal(dir, runId);
    return new Set(records.flatMap((r) => (r.type === 'step-end' ? [r.stepId] : [])));
  } catch {
    return undefined; // killed before its journal header was on disk
  }
}

/** Spawns a child and SIGKILLs it once the side-effect file has `killAt` lines (or lets it finish). */
function runChild(config: CrashChildConfig, killAt: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(childCommand[0], [...childCommand.slice(1), JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const poll = setInterval(() => {
      if (readLines(config.sideEffectFile).length >= killAt) child.kill('SIGKILL');
    }, 2);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL' || code === 0) resolvePromise();
      else reject(new Error(`crash child exited with ${code}: ${stderr}`));
    });
  });
}

function snapshot(config: CrashChildConfig): Snapshot {
  const completed = new Map<string, Set<string>>();
  for (const run of config.runs) {
    const steps = completedSteps(config.checkpointDir, run.runId);
    const journal = steps && readJournal(config.checkpointDir, run.runId);
    const ended = journal?.records.some((r) => r.type === 'run-end') ?? false;
    const started = readLines(config.sideEffectFile).some((line) => parseLine(line).runId === run.runId);
    if (!ended && started) {
      const inFlight = [...new Set(readLines(config.sideEffectFile).map(parseLine).filter((l) => l.runId === run.runId && !steps?.has(l.stepId)).map((l) => l.stepId))];
      interruptions.push(`${run.runId} done=[${[...(steps ?? [])].sort()}] inflight=[${inFlight.sort()}]`);
    }
    completed.set(run.runId, steps ?? new Set());
  }
  return { lineCount: readLines(config.sideEffectFile).length, completed };
}

beforeAll(async () => {
  // A pre-bundled child starts in a fraction of the time `node --import tsx` needs on a loaded machine.
  try {
    const esbuild = await import('esbuild');
    const outfile = resolve(__dirname, '../../node_modules/.cache/autoglm-workflows/crash-child.mjs');
    mkdirSync(resolve(outfile, '..'), { recursive: true });
    await esbuild.build({ entryPoints: [childSource], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'silent' });
    childCommand = [process.execPath, outfile];
  } catch {
    childCommand = [process.execPath, '--import', 'tsx', childSource];
  }
  // The uninterrupted reference: same workflow, same inputs, no crash.
  const dir = mkdtempSync(join(tmpdir(), 'wf-baseline-'));
  const file = join(dir, 'effects.log');
  const tools = crashTools(file, () => 0);
  const outputs = new Map<number, WorkflowRunResult['outputs']>();
  for (const seed of [0, 7]) {
    const run = await crashWorkflow.run({ tools, inputs: { seed }, checkpointDir: dir, runId: `base-${seed}` });
    expect(run.status).toBe('succeeded');
    outputs.set(seed, run.outputs);
  }
  const executions = new Map<string, number>();
  for (const line of readLines(file)) if (line.startsWith('base-0:')) executions.set(parseLine(line).stepId, (executions.get(parseLine(line).stepId) ?? 0) + 1);
  baseline = { outputs, executions };
  expect(outputs.get(7)).toEqual({ total: 4 * 7 + 39, audit: { signed: 7 + 33 } });
});

const rounds = [
  { seed: 11, crashWhileResuming: false },
  { seed: 22, crashWhileResuming: true },
  { seed: 33, crashWhileResuming: false },
  { seed: 44, crashWhileResuming: true },
];

describe('kill -9 and resume', () => {
  it.each(rounds)('round with seed $seed (crash while resuming: $crashWhileResuming)', async ({ seed, crashWhileResuming }) => {
    const random = seededRandom(seed);
    const dir = mkdtempSync(join(tmpdir(), `wf-crash-${seed}-`));
    const sideEffectFile = join(dir, 'effects.log');
    const runs = Array.from({ length: 6 }, (_, k) => {
      const durations: Record<string, number> = {};
      for (const step of [...outerSteps, 'check', 'sign']) durations[step] = 5 + Math.floor(random() * 25);
      for (const step of ['extract-a', 'extract-b', 'extract-c']) durations[step] += k * (20 + Math.floor(random() * 25));
      return { runId: `crash${seed}-${k}`, seed: seed * 10 + k, durations };
    });
    const config: CrashChildConfig = { mode: 'run', checkpointDir: dir, sideEffectFile, runs };
    const perRound = 6 * [...baseline.executions.values()].reduce((a, b) => a + b, 0);

    const snapshots: Snapshot[] = [];
    await runChild(config, 3 + Math.floor(random() * perRound * 0.8));
    snapshots.push(snapshot(config));
    if (crashWhileResuming) {
      await runChild({ ...config, mode: 'resume', runs: runs.filter((run) => completedSteps(dir, run.runId) !== undefined) }, snapshots[0].lineCount + 10 + Math.floor(random() * 30));
      snapshots.push(snapshot(config));
    }

    const tools = crashTools(sideEffectFile, () => 1);
    for (const run of runs) {
      if (completedSteps(dir, run.runId) === undefined) {
        // Killed before its header reached the disk: it cannot have run any step.
        expect(readLines(sideEffectFile).some((line) => parseLine(line).runId === run.runId)).toBe(false);
        continue;
      }
      const result = await Workflow.resume(run.runId, { checkpointDir: dir, tools });
      expect(result.status).toBe('succeeded');
      const expected = { total: 4 * run.seed + 39, audit: { signed: run.seed + 33 } };
      expect(result.outputs).toEqual(expected);

      // Every step ended exactly once in the final journal.
      const ends = readJournal(dir, run.runId).records.filter((r) => r.type === 'step-end').map((r) => (r as { stepId: string }).stepId);
      expect(ends.sort()).toEqual([...outerSteps].sort());
    }

    const lines = readLines(sideEffectFile).map(parseLine);
    for (const run of runs) {
      const mine = lines.map((line, index) => ({ ...line, index })).filter((line) => line.runId === run.runId);
      if (mine.length === 0) continue;
      for (const snap of snapshots) {
        // A step whose end was journaled before a crash never runs again.
        const again = mine.filter((line) => line.index >= snap.lineCount && snap.completed.get(run.runId)!.has(line.stepId));
        expect(again, `${run.runId}: completed steps re-ran`).toEqual([]);
      }
      const last = snapshots.at(-1)!;
      for (const step of outerSteps) {
        const total = mine.filter((line) => line.stepId === step).length;
        const afterCrash = mine.filter((line) => line.stepId === step && line.index >= last.lineCount).length;
        const normal = baseline.executions.get(step) ?? 0;
        // At least once in all; a resumed step starts at its interrupted attempt, so never more than a normal run after the crash.
        expect(total, `${run.runId}/${step}`).toBeGreaterThanOrEqual(normal);
        expect(afterCrash, `${run.runId}/${step}`).toBeLessThanOrEqual(normal);
      }
    }
  });

  it('interrupted at least 20 different points across the suite', () => {
    expect(interruptions.length).toBeGreaterThanOrEqual(20);
    expect(new Set(interruptions.map((point) => point.replace(/^\S+ /, ''))).size).toBeGreaterThanOrEqual(5);
  });
});
