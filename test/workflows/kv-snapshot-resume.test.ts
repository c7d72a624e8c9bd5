/**
 * An agent step's KV snapshot beside the journal, end to end on a real tiny model: a child process is SIGKILLed in
 * the middle of the agent step (after its first model turn, while its second generation runs), a second process
 * resumes the run, loads the snapshot, prefills less than a cold run and outputs what an uninterrupted run outputs.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlmModel } from '../../src/models/glm-model';
import { callMain } from '../cli/run-cli';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import { readJournal } from '../../src/workflows/run-journal';
import { Workflow } from '../../src/workflows/workflow';
import type { WorkflowEvent, WorkflowRunResult } from '../../src/workflows/workflow-types';
import { interceptSecondGeneration, kvSnapshotNote, kvSnapshotTools, kvSnapshotWorkflow, type KvSnapshotChildConfig } from './fixtures/kv-snapshot-workflow';

const child = path.resolve(__dirname, 'fixtures/kv-snapshot-child.ts');
let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kv-snapshot-resume-'));
  modelDir = path.join(root, 'model');
  await createTinyGlm(modelDir, { family: 'glm4', seed: 7, hiddenSize: 128, heads: 4, kvHeads: 2, layers: 2, maxPositionEmbeddings: 1024 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the child to its end and returns the run result it prints; or, with `killWhen`, SIGKILLs it once that holds. */
function runChild(config: KvSnapshotChildConfig, killWhen?: () => boolean): Promise<WorkflowRunResult | 'killed'> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    process_.stdout.on('data', (chunk) => (stdout += chunk));
    process_.stderr.on('data', (chunk) => (stderr += chunk));
    const poll = killWhen === undefined ? undefined : setInterval(() => killWhen() && process_.kill('SIGKILL'), 5);
    process_.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as WorkflowRunResult);
      else reject(new Error(`kv-snapshot child exited with ${code}: ${stderr}`));
    });
  });
}

describe('agent step KV snapshots beside the journal', () => {
  it('a run killed during its agent step resumes warm from the snapshot, with the outputs of an uninterrupted run', async () => {
    const checkpointDir = path.join(root, 'runs');
    const uninterrupted = (await runChild({ mode: 'run', modelDir, checkpointDir, runId: 'whole' })) as WorkflowRunResult;
    expect(uninterrupted.status).toBe('succeeded');
    const cold = uninterrupted.steps.summary.kv!;
    expect(cold.snapshotTokens).toBe(0);
    expect(cold.cachedTokens).toBe(0);
    expect(cold.prefillTokens).toBeGreaterThan(50);
    expect(existsSync(path.join(checkpointDir, 'whole.kv', 'summary.kvs'))).toBe(false); // removed once the step succeeded

    const marker = path.join(root, 'second-generation');
    const snapshotFile = path.join(checkpointDir, 'crashed.kv', 'summary.kvs');
    // The marker is written when the second generation starts, which is after the first turn's snapshot was saved.
    expect(await runChild({ mode: 'run', modelDir, checkpointDir, runId: 'crashed', hangAtSecondGeneration: marker }, () => existsSync(marker))).toBe('killed');
    expect(existsSync(snapshotFile)).toBe(true);
    const { records } = readJournal(checkpointDir, 'crashed');
    expect(records.some((record) => record.type === 'step-start' && record.stepId === 'summary')).toBe(true);
    expect(records.some((record) => record.type === 'step-end')).toBe(false); // killed in the middle of the step

    const resumed = (await runChild({ mode: 'resume', modelDir, checkpointDir, runId: 'crashed' })) as WorkflowRunResult;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual(uninterrupted.outputs);
    const warm = resumed.steps.summary.kv!;
    expect(warm.snapshotTokens).toBeGreaterThan(cold.prefillTokens); // the first prompt and the first turn's output
    expect(warm.snapshotIgnored).toBeUndefined();
    // The first generation repeats the crashed attempt's prompt: all of it but the last token comes from the file.
    expect(warm.cachedTokens).toBe(cold.prefillTokens - 1);
    expect(warm.prefillTokens).toBe(1);
    const ended = readJournal(checkpointDir, 'crashed').records.find((record) => record.type === 'step-end');
    expect(ended).toMatchObject({ stepId: 'summary', status: 'succeeded', kv: warm });
    expect(existsSync(snapshotFile)).toBe(false);
  }, 300_000); // three child processes that each load the model (about 40 s on a busy 2-core machine)

  it('a cancelled run keeps the snapshot of its step, and its resume on a new model instance starts warm', async () => {
    const checkpointDir = path.join(root, 'cancelled');
    const first = await GlmModel.load(modelDir);
    const controller = new AbortController();
    // Cancels the run as the step's second generation starts: the first turn's snapshot is on disk by then.
    const cancelling = interceptSecondGeneration(first, (stream) => {
      controller.abort();
      return stream();
    });
    try {
      const run = await kvSnapshotWorkflow.run({ tools: kvSnapshotTools(), model: cancelling, inputs: { note: kvSnapshotNote }, checkpointDir, runId: 'cancelled', signal: controller.signal });
      expect(run.status).toBe('cancelled');
    } finally {
      await first.dispose();
    }
    expect(existsSync(path.join(checkpointDir, 'cancelled.kv', 'summary.kvs'))).toBe(true);
    const second = await GlmModel.load(modelDir);
    try {
      const run = await Workflow.resume('cancelled', { checkpointDir, tools: kvSnapshotTools(), model: second });
      expect(run.status).toBe('succeeded');
      expect(run.steps.summary.kv!.snapshotTokens).toBeGreaterThan(run.steps.summary.kv!.cachedTokens);
      expect(run.steps.summary.kv!.prefillTokens).toBe(1);
    } finally {
      await second.dispose();
    }
  });

  it('a damaged snapshot is ignored with its reason: the step starts cold and still succeeds', async () => {
    const checkpointDir = path.join(root, 'damaged');
    const file = path.join(checkpointDir, 'damaged.kv', 'summary.kvs');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(file), { recursive: true }));
    // A snapshot cut off after its header's first bytes, as a crash while copying it would leave it.
    const cut = Buffer.alloc(40);
    cut.write('AGKVSNAP', 'latin1');
    cut.writeUInt32LE(1, 8);
    cut.writeUInt32LE(200, 12);
    writeFileSync(file, cut);
    const model = await GlmModel.load(modelDir);
    const events: WorkflowEvent[] = [];
    try {
      const run = await kvSnapshotWorkflow.run({ tools: kvSnapshotTools(), model, inputs: { note: kvSnapshotNote }, checkpointDir, runId: 'damaged', onEvent: (event) => events.push(event) });
      expect(run.status).toBe('succeeded');
      const kv = run.steps.summary.kv!;
      expect(kv.snapshotTokens).toBe(0);
      expect(kv.cachedTokens).toBe(0);
      expect(kv.snapshotIgnored).toMatch(/KV snapshot .*summary\.kvs: is truncated .*Delete it/);
      expect(events.find((event) => event.type === 'step-end')).toMatchObject({ stepId: 'summary', kv });
    } finally {
      await model.dispose();
    }
  });

  it('`autoglm run --json` with --checkpoint-dir prints the kv figures of the agent step', async () => {
    const cwd = path.join(root, 'cli');
    await import('node:fs/promises').then((fs) => fs.mkdir(cwd, { recursive: true }));
    writeFileSync(
      path.join(cwd, 'workflow.yaml'),
      'name: cli-kv\nsteps:\n  - id: greet\n    agent: { task: Greet the user in one line, maxSteps: 1, maxNewTokens: 6, temperature: 0 }\n',
    );
    const result = await callMain(['run', 'workflow.yaml', '--model', modelDir, '--checkpoint-dir', 'runs', '--run-id', 'r1', '--json'], { cwd, env: { AUTOGLM_CACHE_DIR: path.join(cwd, 'cache') } });
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as WorkflowRunResult;
    expect(run.steps.greet.kv).toMatchObject({ snapshotTokens: 0, cachedTokens: 0 });
    expect(run.steps.greet.kv!.prefillTokens).toBeGreaterThan(0);
  });
});
