/**
 * The durable approval flow through the CLI, in child processes on the tiny random-weight model: a run whose agent
 * calls a tool that needs approval suspends, journals it and exits 3; another process continues it with --approve
 * (the tool runs once) or --deny (it never runs) and finishes. Malformed decisions are usage errors (exit 2).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, GenerateOptions, LanguageModel, ModelInput } from '../../src/models/language-model';
import { GlmModel } from '../../src/models/glm-model';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { Workflow } from '../../src/workflows/workflow';
import { readJournal } from '../../src/workflows/run-journal';
import type { WorkflowRunResult } from '../../src/workflows/workflow-types';
import { callMain, repositoryRoot, runCli, type CliRun } from './run-cli';

const plugin = path.join(repositoryRoot, 'test/fixtures/plugins/approval-plugin.mjs');

let temp: string;
let env: Record<string, string>;
let sentLog: string;
beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), 'autoglm-run-approval-'));
  sentLog = path.join(temp, 'sent.jsonl');
  env = { AUTOGLM_CACHE_DIR: path.join(temp, 'cache'), AUTOGLM_APPROVAL_FIXTURE_LOG: sentLog };
  // Sampled (temperature 1) so that a seed where the model calls the tool at its first step exists for sure.
  await writeFile(
    path.join(temp, 'notify.yaml'),
    [
      'name: notify',
      'inputs: { seed: { type: number } }',
      'steps:',
      '  - id: notify',
      '    agent: { task: "Notify the team that the report is ready", tools: [notify.send], plan: false, maxSteps: 2, maxNewTokens: 48, temperature: 1, seed: "${{ inputs.seed }}" }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

const run = (args: string[]) => runCli(['run', 'notify.yaml', '--plugin', plugin, '--checkpoint-dir', 'runs', ...args], { cwd: temp, env, timeoutMs: 120_000 });
const json = (result: CliRun) => JSON.parse(result.stdout) as WorkflowRunResult;
const sent = async () => (existsSync(sentLog) ? (await readFile(sentLog, 'utf8')).trim().split('\n') : []);

/** Starts run `runId` on the first seed whose agent calls notify.send at once; returns the suspended result. */
async function startSuspended(runId: string): Promise<WorkflowRunResult> {
  for (let seed = 0; seed < 6; seed += 1) {
    const started = await run(['--run-id', `${runId}-${seed}`, '--input', `seed=${seed}`, '--json']);
    if (started.code === 0) continue; // the model answered without calling the tool: try the next seed
    expect(started.code, started.stderr).toBe(3);
    return json(started);
  }
  throw new Error('no seed in 0..5 made the tiny model call the tool');
}

describe('autoglm run: suspend for approval, resume in another process', () => {
  it('suspends and exits 3; a second process approves, the tool runs once, and the run finishes', async () => {
    const suspended = await startSuspended('approve');
    expect(suspended.status).toBe('suspended');
    expect(suspended.steps.notify!.status).toBe('suspended');
    const [call] = suspended.pendingApprovals!;
    expect(call).toMatchObject({ id: expect.stringMatching(/^notify\.call-1-\d$/), stepId: 'notify', name: 'notify.send', args: { level: expect.stringMatching(/^(low|high)$/) } });
    expect(await sent()).toEqual([]);

    const resumed = await run(['--resume', suspended.runId, '--approve', call!.id, '--decided-by', 'alice', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed)).toMatchObject({ runId: suspended.runId, status: 'succeeded', steps: { notify: { status: 'succeeded' } } });
    expect(await sent()).toEqual([JSON.stringify(call!.args)]);
    const records = readJournal(path.join(temp, 'runs'), suspended.runId).records;
    expect(records.map((record) => record.type)).toEqual(expect.arrayContaining(['step-suspend', 'run-resume', 'step-decisions', 'step-end']));
    expect(records.find((record) => record.type === 'step-decisions')).toMatchObject({ decisions: [{ id: call!.callId, approved: true, by: 'alice' }] });

    // A finished run waits for no decision.
    const again = await callMain(['run', 'notify.yaml', '--plugin', plugin, '--checkpoint-dir', 'runs', '--resume', suspended.runId, '--approve', call!.id], { cwd: temp, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/TOOL_APPROVAL: .*waits for no approval/);
  }, 300_000);

  it('--deny: the tool never runs, the reason is journaled for the model and the audit, and the run finishes', async () => {
    const before = await sent();
    const suspended = await startSuspended('deny');
    const id = suspended.pendingApprovals![0]!.id;
    // Malformed decisions in between (in process: the same code path, no child needed): nothing is journaled.
    const length = readJournal(path.join(temp, 'runs'), suspended.runId).records.length;
    const resumeHere = (args: string[]) => callMain(['run', 'notify.yaml', '--plugin', plugin, '--checkpoint-dir', 'runs', '--resume', suspended.runId, ...args], { cwd: temp, env });
    expect(await resumeHere([])).toMatchObject({ code: 2, stderr: expect.stringMatching(/TOOL_APPROVAL: .*no decision for "notify\.call-1-\d"/) });
    expect(await resumeHere(['--approve', 'notify.call-9-9'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no pending call has the id "notify\.call-9-9"/) });
    expect(await resumeHere(['--approve', id, '--deny', id])).toMatchObject({ code: 2, stderr: expect.stringMatching(/more than one decision/) });
    expect(readJournal(path.join(temp, 'runs'), suspended.runId).records.length).toBe(length);

    const denied = await run(['--resume', suspended.runId, '--deny', `${id}=not before the audit`]);
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toMatch(/: succeeded in/);
    expect(await sent()).toEqual(before);
    expect(readJournal(path.join(temp, 'runs'), suspended.runId).records.find((record) => record.type === 'step-decisions')).toMatchObject({
      decisions: [{ approved: false, reason: 'not before the audit' }],
    });
  }, 300_000);

  it('a run suspended by one process and denied in another: the real model sees the reason as the observation', async () => {
    const before = await sent();
    const suspended = await startSuspended('deny-lib');
    const { id } = suspended.pendingApprovals![0]!;
    // This test's process is the "other process": the library on the cached tiny model, its prompts recorded.
    const model = await GlmModel.load(path.join(env.AUTOGLM_CACHE_DIR!, 'tiny-glm-v1'), { threads: 1 });
    const prompts: ModelInput[] = [];
    const recording = new Proxy(model, {
      get(target, key) {
        if (key === 'stream') {
          return (input: ModelInput, options?: GenerateOptions) => {
            prompts.push(input);
            return target.stream(input, options);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as LanguageModel;
    try {
      const tools = new ToolRegistry([], { roots: [temp] });
      await tools.use(plugin);
      const done = await Workflow.resume(suspended.runId, {
        checkpointDir: path.join(temp, 'runs'),
        tools,
        model: recording,
        decisions: [{ id, approved: false, reason: 'not before the audit' }],
      });
      expect(done.status).toBe('succeeded');
      expect(await sent()).toEqual(before);
      expect(prompts).toHaveLength(1); // the forced answer step, right after the denied call
      const observation = (prompts[0] as ChatMessage[]).findLast((message) => message.role === 'observation')!;
      expect(observation.content).toContain('TOOL_DENIED');
      expect(observation.content).toContain('not before the audit');
    } finally {
      await model.dispose();
    }
  }, 300_000);

  it('--approve without --resume is a usage error; --help and the text output say how to continue', async () => {
    const result = await callMain(['run', 'notify.yaml', '--approve', 'notify.call-1-1'], { cwd: temp, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/USAGE: run: --approve and --deny decide the pending calls of a suspended run; give the run with --resume/);
    expect((await callMain(['run', '--help'], { cwd: temp, env })).stdout).toMatch(/--deny CALL\[=REASON\][\s\S]*3 the run is suspended waiting for approval/);
    for (let seed = 0; seed < 6; seed += 1) {
      const text = await callMain(['run', 'notify.yaml', '--plugin', plugin, '--checkpoint-dir', 'runs', '--run-id', `text-${seed}`, '--input', `seed=${seed}`], { cwd: temp, env });
      if (text.code === 0) continue;
      expect(text.code, text.stderr).toBe(3);
      expect(text.stdout).toMatch(/Run text-\d of notify: suspended, waiting for approval of:\n  notify\.call-1-\d: notify\.send \{"level":"(low|high)"\}\n/);
      expect(text.stdout).toContain(`--resume text-${seed} and one --approve CALL or --deny CALL=reason per call`);
      return;
    }
    throw new Error('no seed in 0..5 made the tiny model call the tool');
  }, 120_000);
});
