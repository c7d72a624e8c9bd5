/**
 * The Redis side shared by the BullMQ executor (coordinator) and the step worker: connecting from a URL, the queue
 * and key names, and the size limit of what travels through Redis.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ExecutorError } from '../../errors';

/** Each step's output (and each job's arguments) is stored once under its own key, at most this many bytes of JSON. */
export const defaultMaxPayloadBytes = 16 * 1024 * 1024;

/** Prefix of every BullMQ and autoglm key. */
export const defaultPrefix = 'autoglm';

/** The queue of tool steps that need no model. */
export const toolQueueName = 'tools';

const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The queue of a model's steps: only workers that have that model consume it. */
export function modelQueueName(model: string): string {
  return `model-${model}`;
}

export function checkModelName(model: string, where: string): string {
  if (!modelNamePattern.test(model)) {
    throw new ExecutorError(`${where}: model name "${model}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`, {
      details: { model },
    });
  }
  return model;
}

/** BullMQ forbids ":" in job ids; run ids and step ids never contain "|", so the mapping is one to one. */
export function jobIdOf(idempotencyKey: string): string {
  return idempotencyKey.replaceAll(':', '|');
}

/** The key where an attempt's outcome is recorded once (first writer wins): the proof that its body ran. */
export function outcomeKey(prefix: string, idempotencyKey: string): string {
  return `${prefix}:outcome:${idempotencyKey}`;
}

export function journalKey(prefix: string, runId: string): string {
  return `${prefix}:journal:${runId}`;
}

/** Where coordinators ask workers to abort a running attempt (its timeout or the run's cancellation). */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/** What is recorded under {@link outcomeKey}: the body's output or its failure as a value. */
export type StepOutcome = { ok: true; output: unknown } | { ok: false; error: { code: string; message: string } };

/** A Redis URL (`redis://`, `rediss://` for TLS, with `user:password@`), or ioredis options, or a client. */
export type RedisConnectionInput = string | RedisOptions | Redis;

/**
 * Opens a client that waits through reconnections instead of failing commands (BullMQ workers need
 * `maxRetriesPerRequest: null`), so a Redis restart pauses the work rather than failing steps.
 */
export function connectRedis(input: RedisConnectionInput, where: string): Redis {
  if (input instanceof Redis) return input;
  const client = openRedis(input, where);
  // Connection errors are retried by ioredis; waitForRedis reports the last one if the first connection never comes.
  client.on('error', () => undefined);
  return client;
}

function openRedis(input: string | RedisOptions, where: string): Redis {
  const options: RedisOptions = { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(100 * times, 2000) };
  if (typeof input === 'string') {
    let url: URL;
    try {
      url = new URL(input);
    } catch (cause) {
      throw new ExecutorError(`${where}: "${input}" is not a Redis URL; expected redis://[user:password@]host:port[/db] or rediss:// for TLS.`, { cause, details: { redis: input } });
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ExecutorError(`${where}: Redis URL must start with redis:// or rediss:// (TLS), got ${url.protocol}//.`, { details: { protocol: url.protocol } });
    }
    return new Redis(input, options);
  }
  return new Redis({ ...options, ...input });
}

export function payloadTooLarge(what: string, bytes: number, limit: number): { code: 'STEP_PAYLOAD_TOO_LARGE'; message: string } {
  return {
    code: 'STEP_PAYLOAD_TOO_LARGE',
    message:
      `${what} is ${bytes} bytes of JSON, over the executor's limit of ${limit} bytes (maxPayloadBytes). ` +
      'Write large data to a file in a folder every worker shares and pass its path, or raise maxPayloadBytes on the executor and the workers.',
  };
}

/** An integer option >= 1 of the executor or worker, or its default. */
export function positiveIntegerOption(value: unknown, where: string, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ExecutorError(`${where}: expected \`${name}\` to be an integer >= 1, got ${String(value)}.`, { details: { option: name } });
  }
  return value;
}

/** Where a client connects, for messages: host and port, never the password. */
function describeClient(client: Redis): string {
  const { host, port, db } = client.options;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}${db ? `/${db}` : ''}`;
}

/**
 * Resolves when the client is connected; rejects with ExecutorError after `timeoutMs` (the client keeps retrying
 * forever otherwise, and a run would wait in silence for a Redis that is not there).
 */
export function waitForRedis(client: Redis, where: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError = '';
    const onError = (error: Error) => (lastError = error.message);
    const done = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new ExecutorError(
          `${where}: cannot reach Redis at ${describeClient(client)} within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}. Check the URL, that redis-server runs there, and the network or TLS settings.`,
          { details: { redis: describeClient(client), timeoutMs } },
        ),
      );
    }, timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}
