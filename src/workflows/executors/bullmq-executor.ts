/**
 * Runs workflow step bodies on BullMQ workers (`autoglm worker`, or {@link BullmqStepWorker} in your process),
 * on any number of processes and machines sharing one Redis. The calling process stays the coordinator: the
 * WorkflowRunner schedules, retries, times out and journals as it does locally; each attempt of a ready step
 * becomes one job whose id is the attempt's idempotency key, so re-enqueueing it (a resumed coordinator, a
 * resync after a Redis restart) never makes a second job. Tool steps go to the `tools` queue, model-bound steps
 * to `model-<name>`, consumed only by workers that have that model. Outputs travel by reference: the worker
 * records the outcome under its own key and the job returns that key (docs/scale-out.md).
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ExecutorError } from '../../errors';
import { assertKnownNames } from '../../strict-options';
import { AttemptError } from '../attempt-error';
import type { StepContext } from '../workflow-types';
import {
  cancelChannel,
  checkModelName,
  connectRedis,
  defaultMaxPayloadBytes,
  defaultPrefix,
  jobIdOf,
  modelQueueName,
  outcomeKey,
  payloadTooLarge,
  positiveIntegerOption,
  waitForRedis,
  toolQueueName,
  type RedisConnectionInput,
  type StepOutcome,
} from './redis-connection';
import { RedisRunJournalStore } from './redis-run-journal-store';
import type { StepExecutor, StepTask } from './step-executor';

export interface BullmqExecutorOptions {
  /** Redis: a URL (`redis://user:password@host:6379/0`, `rediss://` for TLS), ioredis options, or a client (not closed by `close`). Required. */
  connection: RedisConnectionInput;
  /** The model name model-bound steps run on: workers started with `--model <name>=DIR` take them. Defaults to `default`. */
  model?: string;
  /** Prefix of every key, so several deployments can share one Redis. Defaults to `autoglm`; workers must use the same. */
  prefix?: string;
  /** The largest step arguments (JSON bytes) a job may carry; larger ones fail the step with STEP_PAYLOAD_TOO_LARGE. Defaults to 16 MiB. */
  maxPayloadBytes?: number;
  /**
   * How often (ms) the executor asks Redis about attempts it still waits for, in case an event was lost (a Redis
   * restart) or a job vanished (it is then enqueued again under the same id). Defaults to 1000.
   */
  resyncIntervalMs?: number;
  /** How long (ms) a run waits for Redis before it fails with ExecutorError (later outages are waited out). Defaults to 10000. */
  connectTimeoutMs?: number;
}

const optionNames = ['connection', 'model', 'prefix', 'maxPayloadBytes', 'resyncIntervalMs', 'connectTimeoutMs'];

interface Waiter {
  task: StepTask;
  jobId: string;
  queue: Queue;
  resolve: (output: unknown) => void;
  reject: (error: unknown) => void;
  checking: boolean;
}

interface QueuePair {
  queue: Queue;
  events: QueueEvents;
  ready: Promise<unknown>;
}

export class BullmqExecutor implements StepExecutor, AsyncDisposable {
  readonly remote = true;
  readonly journalStore: RedisRunJournalStore;
  readonly model: string;
  readonly prefix: string;
  readonly maxPayloadBytes: number;
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #queues = new Map<string, QueuePair>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #connectTimeoutMs: number;
  #closed = false;

  constructor(options: BullmqExecutorOptions) {
    assertKnownNames(options, optionNames, { where: 'BullmqExecutor options', error: ExecutorError });
    if (options.connection === undefined) throw new ExecutorError('BullmqExecutor: `connection` (a Redis URL, ioredis options or client) is required.', { details: { option: 'connection' } });
    this.model = checkModelName(options.model ?? 'default', 'BullmqExecutor');
    this.prefix = options.prefix ?? defaultPrefix;
    this.maxPayloadBytes = positiveIntegerOption(options.maxPayloadBytes, 'BullmqExecutor', 'maxPayloadBytes', defaultMaxPayloadBytes);
    const resyncIntervalMs = positiveIntegerOption(options.resyncIntervalMs, 'BullmqExecutor', 'resyncIntervalMs', 1000);
    this.#connectTimeoutMs = positiveIntegerOption(options.connectTimeoutMs, 'BullmqExecutor', 'connectTimeoutMs', 10_000);
    this.#client = connectRedis(options.connection, 'BullmqExecutor');
    this.#ownsClient = this.#client !== options.connection;
    this.journalStore = new RedisRunJournalStore(this.#client, this.prefix);
    this.#timer = setInterval(() => this.#resync(), resyncIntervalMs);
    this.#timer.unref();
  }

  /** Waits for Redis (at most `connectTimeoutMs`): Workflow.run and resume call it before anything is written. */
  prepare(): Promise<void> {
    if (this.#closed) return Promise.reject(new ExecutorError('BullmqExecutor: used after close().'));
    return waitForRedis(this.#client, 'BullmqExecutor', this.#connectTimeoutMs);
  }

  execute(task: StepTask, ctx: StepContext): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ExecutorError('BullmqExecutor: execute() after close().'));
    const bytes = Buffer.byteLength(JSON.stringify(task.args));
    if (bytes > this.maxPayloadBytes) return Promise.reject(new AttemptError(payloadTooLarge(`Step "${task.stepId}"'s arguments`, bytes, this.maxPayloadBytes)));
    const pair = this.#queue(task.modelBound ? modelQueueName(this.model) : toolQueueName);
    const jobId = jobIdOf(task.idempotencyKey);
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(jobId);
        // A waiting job is removed; a running one is aborted by its worker (the removal of a locked job fails).
        void this.#client.publish(cancelChannel(this.prefix), jobId).catch(() => undefined);
        void pair.queue.remove(jobId).catch(() => undefined);
        reject(ctx.signal.reason);
      };
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        ctx.signal.removeEventListener('abort', onAbort);
        fn(value);
      };
      const waiter: Waiter = { task, jobId, queue: pair.queue, resolve: settle(resolve), reject: settle(reject), checking: false };
      if (ctx.signal.aborted) return reject(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(jobId, waiter);
      pair.ready
        .then(() => this.#enqueue(waiter))
        .then(() => this.#check(waiter))
        .catch((error: unknown) => {
          if (this.#waiters.get(jobId) !== waiter) return;
          this.#waiters.delete(jobId);
          waiter.reject(error);
        });
    });
  }

  #enqueue(waiter: Waiter): Promise<unknown> {
    // Retries here are for the worker's infrastructure failures only (Redis gone while it recorded the outcome);
    // the step's own failures come back as outcomes and its retry policy is the runner's.
    return waiter.queue.add(waiter.task.stepId, waiter.task, {
      jobId: waiter.jobId,
      attempts: 3,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
  }

  #queue(name: string): QueuePair {
    let pair = this.#queues.get(name);
    if (pair === undefined) {
      const connection = this.#client;
      const queue = new Queue(name, { connection, prefix: this.prefix });
      const events = new QueueEvents(name, { connection, prefix: this.prefix });
      const onEvent = ({ jobId }: { jobId: string }) => {
        const waiter = this.#waiters.get(jobId);
        if (waiter !== undefined) void this.#check(waiter);
      };
      events.on('completed', onEvent);
      events.on('failed', onEvent);
      // Connection errors are retried by ioredis; the resync catches up on what was missed meanwhile.
      events.on('error', () => undefined);
      queue.on('error', () => undefined);
      pair = { queue, events, ready: Promise.all([queue.waitUntilReady(), events.waitUntilReady()]) };
      this.#queues.set(name, pair);
    }
    return pair;
  }

  /** Settles a waiter from Redis: its recorded outcome, or its job's final failure; re-enqueues a vanished job. */
  async #check(waiter: Waiter): Promise<void> {
    if (waiter.checking) return;
    waiter.checking = true;
    try {
      const recorded = await this.#client.get(outcomeKey(this.prefix, waiter.task.idempotencyKey));
      if (this.#waiters.get(waiter.jobId) !== waiter) return;
      if (recorded !== null) {
        this.#waiters.delete(waiter.jobId);
        const outcome = JSON.parse(recorded) as StepOutcome;
        if (outcome.ok) waiter.resolve(outcome.output);
        else waiter.reject(new AttemptError(outcome.error));
        return;
      }
      const state = await waiter.queue.getJobState(waiter.jobId);
      if (state === 'failed') {
        const job = await waiter.queue.getJob(waiter.jobId);
        const reason = job?.failedReason ?? 'unknown reason';
        this.#waiters.delete(waiter.jobId);
        await waiter.queue.remove(waiter.jobId).catch(() => undefined);
        waiter.reject(
          new AttemptError({
            code: /stalled/i.test(reason) ? 'STEP_STALLED' : 'STEP_ERROR',
            message: `Step "${waiter.task.stepId}" attempt ${waiter.task.attempt} failed on its worker: ${reason}`,
          }),
        );
      } else if (state === 'unknown') {
        // Neither an outcome nor a job: lost to a Redis restart without persistence of its last writes.
        await this.#enqueue(waiter);
      }
    } catch {
      // Redis unreachable: the next resync tries again.
    } finally {
      waiter.checking = false;
    }
  }

  #resync(): void {
    for (const waiter of this.#waiters.values()) void this.#check(waiter);
  }

  /** Attempts this executor is waiting for. */
  get pending(): number {
    return this.#waiters.size;
  }

  /** Closes the queues and event streams (and the Redis client, when the executor opened it). Running runs should end first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const waiter of this.#waiters.values()) waiter.reject(new ExecutorError('BullmqExecutor closed while the step was running.'));
    this.#waiters.clear();
    await Promise.all([...this.#queues.values()].flatMap((pair) => [pair.events.close(), pair.queue.close()]));
    if (this.#ownsClient) await this.#client.quit().catch(() => this.#client.disconnect());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
