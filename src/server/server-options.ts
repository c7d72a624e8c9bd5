/**
 * Options of `createServer`, with their defaults, validated once at the boundary.
 */
import { ServerConfigError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import type { Logger } from '../observability/logger';
import type { AutoglmMetrics } from '../observability/metrics';
import type { ModelProvider, ProvidedModel } from './model-provider';
import type { RunsOptions } from './runs/runs-options';

export interface CreateServerOptions {
  /** The models to serve: a provider (a model registry), or a record of name -> model (version "1"). */
  models: ModelProvider | Record<string, LanguageModel | ProvidedModel>;
  /** Address to listen on. Defaults to `127.0.0.1`; any non-loopback address requires `apiKey`. */
  host?: string;
  /** Port; 0 picks a free one. Defaults to 8080. */
  port?: number;
  /** Bearer key every route but /healthz and /readyz requires. Defaults to none (loopback only). */
  apiKey?: string;
  /**
   * Bearer key of the admin API (`/admin/models`, update, rollback); needs `models` to be a ModelRegistry. Distinct
   * from `apiKey`. Defaults to none: the admin routes are off (404).
   */
  adminKey?: string;
  /** Largest request body in bytes (413 past it). Defaults to 4 MiB. */
  bodyLimit?: number;
  /** Chat requests allowed to wait per model behind the running ones (a model runs `sequences` at once); 429 with Retry-After past it. Defaults to 16. */
  maxQueued?: number;
  /** Deadline of one chat request, queue wait included (504 past it). Defaults to 300000 ms. */
  requestTimeoutMs?: number;
  /** max_tokens when a request sets none. Defaults to 256. */
  defaultMaxTokens?: number;
  /** How long `close()` waits for in-flight requests before aborting them. Defaults to 10000 ms. */
  shutdownTimeoutMs?: number;
  /** Origins allowed to call the API from a browser (CORS). Defaults to none: no CORS headers at all. */
  corsOrigins?: string[];
  /** Warm each model (one 1-token generation) before /readyz answers 200. Defaults to true. */
  warmup?: boolean;
  /** Metrics to record into and serve at /metrics. Defaults to a new AutoglmMetrics. */
  metrics?: AutoglmMetrics;
  /** The runs API (`/v1/runs`). Defaults to off (404). */
  runs?: RunsOptions;
  /** pino logger. Defaults to silent. */
  logger?: Logger;
}

export type ResolvedServerOptions = Required<Omit<CreateServerOptions, 'models' | 'apiKey' | 'adminKey' | 'metrics' | 'runs' | 'logger'>> &
  Pick<CreateServerOptions, 'apiKey' | 'runs'>;

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function positiveInteger(name: string, value: number | undefined, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) {
    throw new ServerConfigError(`createServer: ${name} must be an integer >= ${minimum}, got ${String(value)}.`, { details: { field: name, value } });
  }
  return value;
}

export function resolveServerOptions(options: CreateServerOptions): ResolvedServerOptions {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && (options.apiKey === undefined || options.apiKey === '')) {
    throw new ServerConfigError(
      `Refusing to listen on ${host} without an API key: anyone who can reach that address could use the models. Pass --api-key KEY (createServer({ apiKey })), or listen on 127.0.0.1.`,
      { details: { field: 'host', value: host } },
    );
  }
  if (options.apiKey !== undefined && options.apiKey.length < 8) {
    throw new ServerConfigError('createServer: apiKey must be at least 8 characters.', { details: { field: 'apiKey' } });
  }
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServerConfigError(`createServer: port must be an integer in [0, 65535], got ${String(port)}.`, { details: { field: 'port', value: port } });
  }
  return {
    host,
    port,
    apiKey: options.apiKey,
    bodyLimit: positiveInteger('bodyLimit', options.bodyLimit, 4 * 1024 * 1024),
    maxQueued: positiveInteger('maxQueued', options.maxQueued, 16, 0),
    requestTimeoutMs: positiveInteger('requestTimeoutMs', options.requestTimeoutMs, 300_000),
    defaultMaxTokens: positiveInteger('defaultMaxTokens', options.defaultMaxTokens, 256),
    shutdownTimeoutMs: positiveInteger('shutdownTimeoutMs', options.shutdownTimeoutMs, 10_000, 0),
    corsOrigins: options.corsOrigins ?? [],
    warmup: options.warmup ?? true,
    runs: options.runs,
  };
}
