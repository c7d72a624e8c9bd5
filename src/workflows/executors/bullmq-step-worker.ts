/**
 * The worker side of the BullMQ executor: consumes the `tools` queue (tool steps that need no model) and, for
 * each model it has, that model's queue (as many steps at once as the model runs sequences). Before running a body it checks
 * that the attempt has no recorded outcome, so an attempt whose end was recorded never runs again, also when its
 * job is handed over after a crash; after the body it records the outcome once (SET NX: the first writer wins) and
 * completes the job with the outcome's key. A worker killed mid-step leaves a job whose lock expires: BullMQ's
 * stalled check (any worker's) moves it back to wait and another worker runs the attempt again, with the same
 * idempotency key.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { z } from 'zod';
import type { Redis } from 'ioredis';
import { ExecutorError } from '../../errors';
import { modelSequences, type LanguageModel } from '../../models/language-model';
import type { Logger } from '../../observability/logger';
import { silentLogger } from '../../observability/logger';
import { assertKnownNames } from '../../strict-options';
import { FileSandbox } from '../../tools/file-sandbox';
import type { ToolCaller } from '../../tools/tool';
import { ToolRegistry } from '../../tools/tool-registry';
import { withDeadline } from '../../with-deadline';
import { AttemptError, toErrorValue } from '../attempt-error';
import { createWorkflowAgentRunner } from '../workflow-agent-runner';
import type { AgentRunner, StepContext } from '../workflow-types';
import { runStepBody } from './local-executor';
import {
  cancelChannel,
  checkModelName,
  connectRedis,
  defaultMaxPayloadBytes,
  defaultPrefix,
  modelQueueName,
  outcomeKey,
  payloadTooLarge,
  positiveIntegerOption,
  waitForRedis,
  toolQueueName,
  type RedisConnectionInput,
  type StepOutcome,
} from './redis-connection';
import type { StepTask } from './step-executor';

/** A job's data as the executor writes it; anything else in the queue (another program's job) is refused. */
const stepTaskSchema = z.strictObject({
  runId: z.string().min(1),
  stepId: z.string().min(1),
  attempt: z.number().int().min(1),
  idempotencyKey: z.string().min(1),
  uses: z.string().min(1).optional(),
  agent: z.record(z.string(), z.unknown()).optional(),
  args: z.record(z.string(), z.unknown()),
  modelBound: z.boolean(),
  timeoutMs: z.number().int().min(0).optional(),
});

export interface WorkerModel {
  model: LanguageModel;
  /** Runs this model's agent steps. Defaults to an AutoAgent on `model` with the file access of `tools`. */
  agents?: AgentRunner;
}

export interface BullmqStepWorkerOptions {
  /** Redis: a URL (`redis://user:password@host:6379/0`, `rediss://` for TLS), ioredis options or a client (not closed by `close`). Required. */
  connection: RedisConnectionInput;
  /** The tools `uses:` steps call. Without it, the worker takes model steps only. */
  tools?: ToolCaller;
  /** The models this worker has, by the name runs use (`BullmqExecutor({ model })`); each adds its queue. Defaults to none. */
  models?: Record<string, WorkerModel>;
  /** Tool steps running at once (model steps: as many as the model runs sequences, `LanguageModel.sequences`). Defaults to 4. */
  concurrency?: number;
  /** Key prefix, the same as the executors'. Defaults to `autoglm`. */
  prefix?: string;
  /** The largest output (JSON bytes) recorded; a larger one fails the attempt with STEP_PAYLOAD_TOO_LARGE. Defaults to 16 MiB. */
  maxPayloadBytes?: number;
  /** How long (ms) a job's lock lasts without renewal: a killed worker's job is taken over after about this long. Defaults to 30000. */
  lockDuration?: number;
  /** How often (ms) this worker looks for stalled jobs. Defaults to 30000. */
  stalledInterval?: number;
  /** How many times one attempt's job may be taken over before it fails with STEP_STALLED. Defaults to 5. */
  maxStalledCount?: number;
  /** How long (s) recorded outcomes are kept, which bounds how late a run can be resumed. Defaults to 7 days. */
  outcomeTtlSeconds?: number;
  logger?: Logger;
}

const optionNames = ['connection', 'tools', 'models', 'concurrency', 'prefix', 'maxPayloadBytes', 'lockDuration', 'stalledInterval', 'maxStalledCount', 'outcomeTtlSeconds', 'logger'];

function positiveInteger(options: BullmqStepWorkerOptions, name: keyof BullmqStepWorkerOptions, fallback: number): number {
  return positiveIntegerOption(options[name], 'BullmqStepWorker', name, fallback);
}

export class BullmqStepWorker implements AsyncDisposable {
  readonly queues: string[];
  readonly #options: BullmqStepWorkerOptions;
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #ownsClient: boolean;
  readonly #workers: Worker[] = [];
  readonly #prefix: string;
  readonly #maxPayloadBytes: number;
  readonly #ttl: number;
  readonly #logger: Logger;
  /** Bodies this worker ran (not counting attempts it found already recorded). */
  bodiesRun = 0;

  constructor(options: BullmqStepWorkerOptions) {
    assertKnownNames(options, optionNames, { where: 'BullmqStepWorker options', error: ExecutorError });
    if (options.connection === undefined) throw new ExecutorError('BullmqStepWorker: `connection` (a Redis URL, ioredis options or client) is required.', { details: { option: 'connection' } });
    const models = Object.keys(options.models ?? {}).map((name) => checkModelName(name, 'BullmqStepWorker'));
    if (options.tools === undefined && models.length === 0) {
      throw new ExecutorError('BullmqStepWorker: give `tools`, `models` or both; a worker with neither has no queue to take work from.', { details: { option: 'tools' } });
    }
    this.#options = options;
    this.#prefix = options.prefix ?? defaultPrefix;
    this.#maxPayloadBytes = positiveInteger(options, 'maxPayloadBytes', defaultMaxPayloadBytes);
    this.#ttl = positiveInteger(options, 'outcomeTtlSeconds', 7 * 24 * 3600);
    this.#logger = options.logger ?? silentLogger();
    const concurrency = positiveInteger(options, 'concurrency', 4);
    const lockDuration = positiveInteger(options, 'lockDuration', 30_000);
    const stalledInterval = positiveInteger(options, 'stalledInterval', 30_000);
    const maxStalledCount = positiveInteger(options, 'maxStalledCount', 5);
    this.#client = connectRedis(options.connection, 'BullmqStepWorker');
    this.#ownsClient = this.#client !== options.connection;
    this.#subscriber = this.#client.duplicate();
    const common = { connection: this.#client, prefix: this.#prefix, lockDuration, stalledInterval, maxStalledCount, autorun: true };
    if (options.tools !== undefined) {
      this.#workers.push(new Worker(toolQueueName, (job, _token, signal) => this.#process(job, signal, undefined), { ...common, concurrency }));
    }
    for (const name of models) {
      const entry = options.models![name]!;
      // As many steps at once as the model runs sequences (batched together), one for a model that does not say.
      this.#workers.push(new Worker(modelQueueName(name), (job, _token, signal) => this.#process(job, signal, entry), { ...common, concurrency: modelSequences(entry.model) }));
    }
    this.queues = this.#workers.map((worker) => worker.name);
    for (const worker of this.#workers) {
      // ioredis reconnects by itself; while it cannot, the worker takes no jobs and its locks lapse (others take over).
      worker.on('error', (error) => this.#logger.warn({ err: error, queue: worker.name }, 'worker-error'));
    }
    this.#subscriber.on('message', (_channel: string, jobId: string) => {
      for (const worker of this.#workers) worker.cancelJob(jobId, 'cancelled by the coordinator');
    });
    this.#subscriber.on('error', () => undefined);
    void this.#subscriber.subscribe(cancelChannel(this.#prefix)).catch(() => undefined);
  }

  /** Resolves once every queue's connection is ready; ExecutorError when Redis cannot be reached within `timeoutMs`. */
  async waitUntilReady(timeoutMs = 10_000): Promise<void> {
    await waitForRedis(this.#client, 'BullmqStepWorker', timeoutMs);
    await Promise.all(this.#workers.map((worker) => worker.waitUntilReady()));
  }

  async #process(job: Job, signal: AbortSignal | undefined, model: WorkerModel | undefined): Promise<string> {
    const parsed = stepTaskSchema.safeParse(job.data);
    if (!parsed.success || (parsed.data.uses === undefined) === (parsed.data.agent === undefined)) {
      const problems = parsed.success ? 'exactly one of uses and agent is required' : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`).join('; ');
      // Not retried: the same data would fail the same way.
      throw new UnrecoverableError(`Job ${job.id} on queue ${job.queueName} is not an autoglm step (${problems}); it was not run.`);
    }
    const task = parsed.data as StepTask;
    // BullMQ counts takeovers of a stalled job (a worker lost mid-step); the attempt and its idempotency key stay.
    if (job.stalledCounter > 0) {
      this.#logger.warn({ runId: task.runId, stepId: task.stepId, attempt: task.attempt, takeovers: job.stalledCounter, queue: job.queueName }, 'step-takeover');
    }
    const key = outcomeKey(this.#prefix, task.idempotencyKey);
    if ((await this.#client.exists(key)) === 1) return key; // recorded: the body never runs again
    let outcome: StepOutcome;
    const startedAt = Date.now();
    try {
      this.bodiesRun += 1;
      outcome = { ok: true, output: await this.#run(task, signal, model) };
    } catch (error) {
      outcome = { ok: false, error: toErrorValue(error) };
    }
    // Cancelled by its coordinator (the run's cancellation or the attempt's timeout there): nothing is recorded, so
    // a resumed run runs the attempt again; the job completes without an outcome and is removed.
    if (signal?.aborted) return '';
    this.#logger.debug({ runId: task.runId, stepId: task.stepId, attempt: task.attempt, ok: outcome.ok, ms: Date.now() - startedAt }, 'step-end');
    let text = JSON.stringify(outcome);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#maxPayloadBytes) text = JSON.stringify({ ok: false, error: payloadTooLarge(`Step "${task.stepId}"'s output`, bytes, this.#maxPayloadBytes) } satisfies StepOutcome);
    await this.#client.set(key, text, 'EX', this.#ttl, 'NX');
    return key;
  }

  #run(task: StepTask, jobSignal: AbortSignal | undefined, entry: WorkerModel | undefined): Promise<unknown> {
    const logger = this.#logger.child({ runId: task.runId, stepId: task.stepId, attempt: task.attempt });
    return withDeadline(
      (signal) => {
        const ctx: StepContext = { runId: task.runId, stepId: task.stepId, attempt: task.attempt, idempotencyKey: task.idempotencyKey, signal, logger, model: entry?.model };
        return runStepBody(task, ctx, { tools: this.#options.tools, agents: entry === undefined ? undefined : (entry.agents ??= this.#defaultAgents(entry.model)) });
      },
      {
        timeoutMs: task.timeoutMs,
        signal: jobSignal,
        onTimeout: () => new AttemptError({ code: 'STEP_TIMEOUT', message: `Step "${task.stepId}" timed out after ${task.timeoutMs} ms (timeoutMs) on attempt ${task.attempt}.` }),
        onAbort: () => new AttemptError({ code: 'ABORT', message: 'cancelled' }),
      },
    );
  }

  #defaultAgents(model: LanguageModel): AgentRunner {
    const registry = this.#options.tools instanceof ToolRegistry ? this.#options.tools : undefined;
    return createWorkflowAgentRunner({ model, files: registry?.files ?? new FileSandbox({ roots: [process.cwd()] }), ...(registry === undefined ? {} : { tools: registry }) });
  }

  /** Stops taking jobs, waits for running ones to end (and record their outcomes), then disconnects. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
    this.#subscriber.disconnect();
    if (this.#ownsClient) await this.#client.quit().catch(() => this.#client.disconnect());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
