/**
 * The BullMQ executor against a real redis-server (started by the test), with workers in this process: the same
 * results as a local run, the outcome record that keeps a recorded attempt from running again, timeouts,
 * cancellation reaching the worker, model routing, the payload limit, and a run resumed from its Redis journal.
 */
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/tools/define-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ExecutorError } from '../../src/errors';
import { Workflow } from '../../src/workflows/workflow';
import { BullmqExecutor } from '../../src/workflows/executors/bullmq-executor';
import { BullmqStepWorker } from '../../src/workflows/executors/bullmq-step-worker';
import type { StepContext, WorkflowRunResult } from '../../src/workflows/workflow-types';
import { silentLogger } from '../../src/observability/logger';
import { ScriptedModel } from '../support/scripted-model';
import { RedisServer } from '../support/redis-server';
import { callMain } from '../cli/run-cli';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    }, { once: true });
  });
}

/** Tools that count their body runs per idempotency key and note aborts. */
function makeTools() {
  const runs = new Map<string, number>();
  const aborted = new Set<string>();
  const failures = new Map<string, number>();
  const tools = new ToolRegistry([
    defineTool({
      name: 'work',
      description: 'waits ms, may fail a few times, returns value',
      input: z.object({ ms: z.number().default(0), value: z.unknown().optional(), failTimes: z.number().default(0) }),
      async execute({ ms, value, failTimes }, ctx) {
        runs.set(ctx.idempotencyKey!, (runs.get(ctx.idempotencyKey!) ?? 0) + 1);
        try {
          await sleep(ms, ctx.signal);
        } catch (error) {
          aborted.add(ctx.stepId!);
          throw error;
        }
        const failed = failures.get(ctx.stepId!) ?? 0;
        if (failed < failTimes) {
          failures.set(ctx.stepId!, failed + 1);
          throw new Error(`planned failure ${failed + 1} of ${ctx.stepId}`);
        }
        return value === undefined ? { step: ctx.stepId, hasModel: ctx.model !== undefined } : value;
      },
    }),
    defineTool({
      name: 'big',
      description: 'returns a long string',
      input: z.object({ bytes: z.number() }),
      execute: async ({ bytes }) => 'x'.repeat(bytes),
    }),
  ]);
  return { tools, runs, aborted, failures };
}

const dag = Workflow.define({
  name: 'scale-dag',
  inputs: { base: { type: 'number', default: 2 } },
  steps: [
    { id: 'a', uses: 'work', with: { value: '${{ inputs.base }}' } },
    { id: 'b', uses: 'work', needs: ['a'], with: { value: { doubled: '${{ steps.a.output }}' }, failTimes: 1 }, retry: { max: 2, initialMs: 10 } },
    { id: 'c', uses: 'work', needs: ['a'], with: { ms: 30 } },
    { id: 'flaky', uses: 'work', needs: ['a'], with: { failTimes: 5 }, onFailure: 'continue' },
    { id: 'skipped', uses: 'work', needs: ['c'], if: '${{ steps.a.output > 100 }}' },
    {
      id: 'nested',
      needs: ['b'],
      with: { x: '${{ steps.b.output.doubled }}' },
      workflow: { name: 'inner', inputs: { x: { type: 'number' } }, steps: [{ id: 'n1', uses: 'work', with: { value: '${{ inputs.x }}' } }], outputs: { got: '${{ steps.n1.output }}' } },
    },
  ],
  outputs: { nested: '${{ steps.nested.output.got }}', flaky: '${{ steps.flaky.status }}', c: '${{ steps.c.output }}' },
});

function summary(run: WorkflowRunResult) {
  return { status: run.status, outputs: run.outputs, steps: Object.fromEntries(Object.entries(run.steps).map(([id, step]) => [id, [step.status, step.attempts, step.error?.code]])) };
}

describe('BullmqExecutor on a real Redis', () => {
  let redis: RedisServer;
  const open: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(value: T): T => {
    open.push(value);
    return value;
  };
  const fast = { lockDuration: 2000, stalledInterval: 1000 };

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const value of open.reverse()) await value.close().catch(() => undefined);
    await redis?.stop();
  });

  it('ends a DAG (retries, continue, if, nested workflow) exactly like the local executor', async () => {
    const local = makeTools();
    const localRun = await dag.run({ tools: local.tools, runId: 'local-1' });
    const remote = makeTools();
    track(new BullmqStepWorker({ connection: redis.url, tools: remote.tools, ...fast }));
    track(new BullmqStepWorker({ connection: redis.url, tools: remote.tools, ...fast }));
    const executor = track(new BullmqExecutor({ connection: redis.url }));
    const remoteRun = await dag.run({ executor, runId: 'remote-1' });
    expect(summary(remoteRun)).toEqual(summary(localRun));
    expect(remoteRun.outputs).toEqual({ nested: 2, flaky: 'failed', c: { step: 'c', hasModel: false } });
    expect(summary(remoteRun).steps.b).toEqual(['succeeded', 2, undefined]);
    // Every attempt ran its body once: the queue never delivered an attempt twice.
    expect([...remote.runs.values()].every((count) => count === 1)).toBe(true);
    expect(remote.runs.size).toBe(local.runs.size);
  });

  it('never runs a recorded attempt again: the same idempotency key returns the recorded output', async () => {
    const { tools, runs } = makeTools();
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'once' }));
    const executor = track(new BullmqExecutor({ connection: redis.url, prefix: 'once' }));
    const ctx = { runId: 'once', stepId: 's', attempt: 1, idempotencyKey: 'once:s:1', signal: new AbortController().signal, logger: silentLogger() } satisfies StepContext;
    const task = { runId: 'once', stepId: 's', attempt: 1, idempotencyKey: 'once:s:1', uses: 'work', args: { value: 7 }, modelBound: false };
    expect(await executor.execute(task, ctx)).toBe(7);
    expect(await executor.execute({ ...task, args: { value: 8 } }, ctx)).toBe(7);
    expect(runs.get('once:s:1')).toBe(1);
  });

  it('times a step out on the coordinator and aborts its body on the worker; cancelling reaches running bodies', async () => {
    const { tools, aborted } = makeTools();
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'deadline' }));
    const executor = track(new BullmqExecutor({ connection: redis.url, prefix: 'deadline' }));
    const timed = await Workflow.define({ name: 't', steps: [{ id: 'slow', uses: 'work', with: { ms: 10_000 }, timeoutMs: 300 }] }).run({ executor });
    expect(timed.steps.slow).toMatchObject({ status: 'failed', error: { code: 'STEP_TIMEOUT' } });
    await expect.poll(() => aborted.has('slow'), { timeout: 5000 }).toBe(true);

    const controller = new AbortController();
    const started = Date.now();
    const pending = Workflow.define({ name: 'c', steps: [{ id: 'long', uses: 'work', with: { ms: 10_000 } }] }).run({ executor, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const cancelled = await pending;
    expect(cancelled.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect.poll(() => aborted.has('long'), { timeout: 5000 }).toBe(true);
  });

  it('sends model-bound steps only to a worker that has the model', async () => {
    const { tools } = makeTools();
    const model = new ScriptedModel([], { fallback: 'hello' });
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'routing' }));
    track(
      new BullmqStepWorker({
        connection: redis.url,
        prefix: 'routing',
        tools,
        models: { glm: { model, agents: async (agent, input, ctx) => ({ task: agent.task, input, model: ctx.model === model }) } },
        ...fast,
      }),
    );
    const executor = track(new BullmqExecutor({ connection: redis.url, prefix: 'routing', model: 'glm' }));
    const wf = Workflow.define({
      name: 'routing',
      steps: [
        ...Array.from({ length: 6 }, (_, index) => ({ id: `m${index}`, uses: 'work', usesModel: true })),
        { id: 'agent', agent: { task: 'say hi' }, with: { q: 1 } },
      ],
    });
    const run = await wf.run({ executor });
    expect(run.status).toBe('succeeded');
    for (let index = 0; index < 6; index++) expect(run.outputs[`m${index}`]).toEqual({ step: `m${index}`, hasModel: true });
    expect(run.outputs.agent).toEqual({ task: 'say hi', input: { q: 1 }, model: true });
  });

  it('fails a step whose output is over the size limit with STEP_PAYLOAD_TOO_LARGE, without retrying it', async () => {
    const { tools } = makeTools();
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'limits', maxPayloadBytes: 1000 }));
    const executor = track(new BullmqExecutor({ connection: redis.url, prefix: 'limits', maxPayloadBytes: 1000 }));
    const run = await Workflow.define({
      name: 'limits',
      steps: [
        { id: 'small', uses: 'big', with: { bytes: 10 } },
        { id: 'large', uses: 'big', with: { bytes: 5000 }, retry: { max: 3, initialMs: 1 } },
        { id: 'arguments', uses: 'work', with: { value: 'y'.repeat(2000) }, onFailure: 'continue' },
      ],
    }).run({ executor });
    expect(run.steps.small).toMatchObject({ status: 'succeeded', output: 'x'.repeat(10) });
    expect(run.steps.large).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'STEP_PAYLOAD_TOO_LARGE' } });
    expect(run.steps.large.error!.message).toMatch(/output is \d+ bytes of JSON, over the executor's limit of 1000 bytes \(maxPayloadBytes\)/);
    expect(run.steps.arguments).toMatchObject({ status: 'failed', error: { code: 'STEP_PAYLOAD_TOO_LARGE' } });
  });

  it('journals the run in Redis: a cancelled run resumes from another executor and recorded steps do not run again', async () => {
    const { tools, runs } = makeTools();
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'resume' }));
    const wf = Workflow.define({
      name: 'resume',
      steps: [
        { id: 'first', uses: 'work', with: { value: 1 } },
        { id: 'second', uses: 'work', needs: ['first'], with: { ms: 1500 } },
        { id: 'third', uses: 'work', needs: ['second'], with: { value: 3 } },
      ],
    });
    const controller = new AbortController();
    const first = track(new BullmqExecutor({ connection: redis.url, prefix: 'resume' }));
    const pending = wf.run({ executor: first, runId: 'resumable', signal: controller.signal });
    await expect.poll(() => runs.has('resumable:second:1'), { timeout: 5000 }).toBe(true);
    controller.abort();
    expect((await pending).status).toBe('cancelled');
    await expect(wf.run({ executor: first, runId: 'resumable' })).rejects.toMatchObject({ code: 'CHECKPOINT' });

    const second = track(new BullmqExecutor({ connection: redis.url, prefix: 'resume' }));
    const resumed = await Workflow.resume('resumable', { executor: second, spec: { name: 'resume', steps: wf.spec.steps.map((step) => (step.id === 'second' ? { ...step, with: { ms: 10 } } : step)) } as never }).catch((error: unknown) => error);
    // A changed spec is refused; the journal's own spec resumes.
    expect(resumed).toMatchObject({ code: 'CHECKPOINT' });
    const done = await Workflow.resume('resumable', { executor: second });
    expect(done.steps.second.error).toBeUndefined();
    expect(done.status).toBe('succeeded');
    expect(runs.get('resumable:first:1')).toBe(1);
    expect(done.outputs.third).toBe(3);
  }, 30_000);

  it('refuses unknown options and bad URLs with ExecutorError', () => {
    expect(() => new BullmqExecutor({ connection: redis.url, concurency: 2 } as never)).toThrow(ExecutorError);
    expect(() => new BullmqExecutor({ connection: 'http://localhost:6379' })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => new BullmqStepWorker({ connection: redis.url })).toThrow(/give `tools`, `models` or both/);
    expect(() => new BullmqExecutor({ connection: redis.url, model: 'a b' })).toThrow(/model name "a b"/);
  });

  it('refuses a job that is not an autoglm step without running anything, and a tool step on a models-only worker fails TOOL_NOT_FOUND', async () => {
    const { tools, runs } = makeTools();
    const model = new ScriptedModel([], { fallback: 'x' });
    track(new BullmqStepWorker({ connection: redis.url, tools, ...fast, prefix: 'foreign' }));
    track(new BullmqStepWorker({ connection: redis.url, models: { glm: { model } }, ...fast, prefix: 'foreign' }));
    const queue = track(new Queue('tools', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'foreign' }));
    await queue.add('x', { runId: 'r', stepId: 's', attempt: 1, idempotencyKey: 'r:s:1', uses: 'work', args: {}, modelBound: false, shell: 'rm -rf /' }, { jobId: 'foreign-1' });
    await expect.poll(() => queue.getJobState('foreign-1'), { timeout: 5000 }).toBe('failed');
    expect((await queue.getJob('foreign-1'))!.failedReason).toMatch(/is not an autoglm step \(data: Unrecognized key: "shell"\)/);
    expect(runs.size).toBe(0);

    const executor = track(new BullmqExecutor({ connection: redis.url, prefix: 'foreign', model: 'glm' }));
    const run = await Workflow.define({ name: 'm', steps: [{ id: 'gen', uses: 'work', usesModel: true }] }).run({ executor });
    expect(run.steps.gen).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'TOOL_NOT_FOUND' } });
    expect(run.steps.gen.error!.message).toMatch(/this executor has no tools/);
  });

  it('fails a run with ExecutorError when Redis cannot be reached, before anything is written', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const executor = track(new BullmqExecutor({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 }));
    const started = Date.now();
    const error = await Workflow.define({ name: 'nowhere', steps: [{ id: 'a', uses: 'work' }] })
      .run({ executor })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ExecutorError);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port} within 500 ms`));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('CLI: worker and run --redis refuse bad flags with usage errors (exit code 2)', async () => {
    const cli = (args: string[]) => callMain(args, { cwd: process.cwd(), env: {} });
    const unknown = await cli(['worker', '--redis', redis.url, '--concurency', '2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/USAGE: worker: Unknown option '--concurency'/);
    expect((await cli(['worker'])).stderr).toMatch(/--redis URL is required/);
    expect((await cli(['worker', '--redis', redis.url, '--model', 'glm'])).stderr).toMatch(/--model expects NAME=DIR/);
    expect((await cli(['worker', '--redis', redis.url, '--concurrency', '0'])).stderr).toMatch(/--concurrency must be an integer >= 1/);
    const resume = await cli(['run', 'x.yaml', '--resume', 'r1']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/--resume needs --checkpoint-dir.*or --redis URL/);
    await expect(Workflow.resume('r1', {} as never)).rejects.toThrow(/needs `checkpointDir`/);
  });
});
