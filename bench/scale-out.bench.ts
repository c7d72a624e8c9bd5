/**
 * Scale-out benchmark (BullMQ executor on a real redis-server started here, workers as `autoglm worker` child
 * processes):
 * 1. per-step overhead of the BullMQ executor against the local one on a 1,000-step DAG of no-op tool steps (wide:
 *    all independent; deep: one chain), one worker process;
 * 2. throughput of CPU-bound steps (each keeps a core busy for --spin-ms) with 1 and with 2 worker processes.
 * Reports the load average, because the machine may be shared. Writes the "Scale-out" section of docs/benchmarks.md.
 *
 *   npx tsx bench/scale-out.bench.ts [--steps 1000] [--deep-steps 200] [--rounds 3] [--spin-steps 40] [--spin-ms 100]
 */
import { execSync } from 'node:child_process';
import os from 'node:os';
import { ToolRegistry } from '../src/tools/tool-registry';
import { BullmqExecutor } from '../src/workflows/executors/bullmq-executor';
import { Workflow } from '../src/workflows/workflow';
import type { WorkflowSpecInput } from '../src/workflows/workflow-spec';
import { RedisServer } from '../test/support/redis-server';
import { faultPlugin, spawnWorker, type WorkerProcess } from '../test/support/scale-out-fixtures';
import { writeBenchmarkSection } from './support/benchmark-doc';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const steps = argument('steps', 1000);
const deepSteps = argument('deep-steps', 200);
const spinSteps = argument('spin-steps', 40);
const spinMs = argument('spin-ms', 100);
const rounds = argument('rounds', 3);
const load = () => os.loadavg()[0]!.toFixed(2);
const loads: string[] = [load()];

function dag(name: string, count: number, deep: boolean, uses = 'fault.noop', ms?: number): WorkflowSpecInput {
  return {
    name,
    steps: Array.from({ length: count }, (_, index) => ({ id: `s${index}`, uses, with: ms === undefined ? {} : { ms }, ...(deep && index > 0 ? { needs: [`s${index - 1}`] } : {}) })),
  };
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(run: () => Promise<{ status: string }>): Promise<number> {
  const start = performance.now();
  const result = await run();
  if (result.status !== 'succeeded') throw new Error(`benchmark run ${result.status}`);
  return performance.now() - start;
}

const redis = await RedisServer.start();
const env = { ...process.env };
delete env.AUTOGLM_TEST_EFFECTS_DIR;
const workers: WorkerProcess[] = [];
const start = async (count: number, concurrency: number) => {
  const started = Array.from({ length: count }, () => spawnWorker(redis.url, env, ['--concurrency', String(concurrency)]));
  workers.push(...started);
  await Promise.all(started.map((worker) => worker.ready));
  return started;
};
const stop = async (list: WorkerProcess[]) => {
  for (const worker of list) worker.child.kill('SIGTERM');
  await Promise.all(list.map((worker) => worker.exited));
};

const tools = new ToolRegistry([]);
await tools.use(faultPlugin);
const executor = new BullmqExecutor({ connection: redis.url });
const rows: string[] = [];
try {
  // 1. Overhead: one worker process, concurrency 16 (wide) against the local executor with the same concurrency.
  const one = await start(1, 16);
  for (const [shape, count] of [['wide', steps], ['deep', deepSteps]] as const) {
    const spec = Workflow.define(dag(`${shape}-${count}`, count, shape === 'deep'));
    const locals: number[] = [];
    const remotes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      locals.push(await timed(() => spec.run({ tools, concurrency: 16 })));
      remotes.push(await timed(() => spec.run({ executor, concurrency: 16 })));
    }
    const local = median(locals);
    const remote = median(remotes);
    loads.push(load());
    rows.push(
      `| ${shape} | ${count} | ${local.toFixed(0)} | ${(remote).toFixed(0)} | ${((local * 1000) / count).toFixed(0)} | ${((remote * 1000) / count).toFixed(0)} | ${(((remote - local) * 1000) / count).toFixed(0)} |`,
    );
    console.log(rows.at(-1));
  }
  await stop(one);

  // 2. CPU-bound throughput: spin steps on 1 worker, then on 2 (each worker runs one step at a time).
  const throughput: string[] = [];
  const spin = Workflow.define(dag('spin', spinSteps, false, 'fault.spin', spinMs));
  const base = spinSteps * spinMs;
  let single = 0;
  for (const count of [1, 2]) {
    const started = await start(count, 1);
    const ms = await timed(() => spin.run({ executor, concurrency: 8 }));
    loads.push(load());
    if (count === 1) single = ms;
    throughput.push(`| ${count} | ${spinSteps} x ${spinMs} ms | ${ms.toFixed(0)} | ${((spinSteps * 1000) / ms).toFixed(2)} | ${(single / ms).toFixed(2)}x | ${(base / ms).toFixed(2)} |`);
    console.log(throughput.at(-1));
    await stop(started);
  }

  const uptime = execSync('uptime').toString().trim();
  writeBenchmarkSection(
    'Scale-out',
    `## Scale-out

Command: \`npx tsx bench/scale-out.bench.ts --steps ${steps} --deep-steps ${deepSteps} --rounds ${rounds} --spin-steps ${spinSteps} --spin-ms ${spinMs}\` (Node ${process.version}, ${os.cpus().length} cores, redis-server 7 on
127.0.0.1 started by the benchmark, workers are \`autoglm worker\` child processes). 1-min load average at the start and after each measurement:
${loads.join(', ')}; \`uptime\` at the end: \`${uptime}\`. The machine was shared with other jobs: absolute figures are noisy, ratios come from the same run.

Per-step overhead: no-op tool steps (\`fault.noop\` of test/fixtures/plugins/fault-steps-plugin.mjs, called through a ToolRegistry on both
sides), coordinator concurrency 16, one worker process with concurrency 16; medians of ${rounds} alternated rounds. Each BullMQ step is
a job add, a worker fetch, an outcome check and SET NX, the job's completion, a QueueEvents event and a GET of the outcome on the coordinator.
Wide: wall time / steps with 16 in flight (throughput); deep: one step after the other (latency of that round trip, several process
switches on a loaded machine).

| shape | steps | local ms | BullMQ ms | local µs/step | BullMQ µs/step | overhead µs/step |
|---|---|---|---|---|---|---|
${rows.join('\n')}

CPU-bound throughput: ${spinSteps} independent steps that each keep a core busy for ${spinMs} ms, coordinator concurrency 8, workers with concurrency 1.

| workers | work | ms | steps/s | speed-up vs 1 worker | cores kept busy (work / wall) |
|---|---|---|---|---|---|
${throughput.join('\n')}
`,
  );
} finally {
  await executor.close();
  await stop(workers.filter((worker) => worker.child.exitCode === null));
  await redis.stop();
}
