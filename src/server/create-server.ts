/**
 * `createServer`: the OpenAI-compatible API, the runs API, health and metrics on Fastify, for embedding in a
 * service or behind `autoglm serve`. Each route group is a Fastify plugin in routes/; routes reach models only
 * through the ModelProvider seam.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { AutoglmMetrics } from '../observability/metrics';
import { silentLogger } from '../observability/logger';
import { createBearerCheck } from './auth';
import { StaticModelProvider, type ModelProvider } from './model-provider';
import { ModelQueue } from './model-queue';
import { toOpenAiError } from './openai/openai-error';
import { chatCompletionsRoutes } from './routes/chat-completions-routes';
import { healthRoutes } from './routes/health-routes';
import { modelsRoutes } from './routes/models-routes';
import { opsRoutes } from './ops-routes';
import { runsRoutes } from './routes/runs-routes';
import { ServerContext } from './server-context';
import { ServerMetrics } from './server-metrics';
import { resolveServerOptions, type CreateServerOptions } from './server-options';

export interface AutoglmServer {
  /** The Fastify instance (register more routes before `listen`). */
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  /** Starts listening; resolves to the base URL (`http://127.0.0.1:PORT`). */
  listen(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish within `shutdownTimeoutMs`, then aborts the rest. */
  close(): Promise<void>;
}

// `/`: the status page's static HTML (its data comes from /status with the key); /admin/*: the admin key instead.
const publicRoutes = new Set(['/', '/healthz', '/readyz']);

export async function createServer(options: CreateServerOptions): Promise<AutoglmServer> {
  const resolved = resolveServerOptions(options);
  const models: ModelProvider = typeof (options.models as ModelProvider).get === 'function' && typeof (options.models as ModelProvider).list === 'function'
    ? (options.models as ModelProvider)
    : new StaticModelProvider(options.models as ConstructorParameters<typeof StaticModelProvider>[0]);
  const metrics = options.metrics ?? new AutoglmMetrics();
  const serverMetrics = new ServerMetrics(metrics);
  const context = new ServerContext({
    models,
    queue: new ModelQueue(resolved.maxQueued, serverMetrics),
    metrics,
    serverMetrics,
    options: resolved,
    logger: options.logger ?? silentLogger(),
  });

  const app = Fastify({ bodyLimit: resolved.bodyLimit, logger: false, return503OnClosing: true });
  app.setErrorHandler((error, _request, reply) => {
    const { status, body, retryAfterSeconds } = toOpenAiError(error);
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { message: `No route ${request.method} ${request.url}. See docs/server.md for the API.`, type: 'not_found_error', param: null, code: 'NOT_FOUND' } });
  });

  const check = resolved.apiKey === undefined ? undefined : createBearerCheck(resolved.apiKey);
  const timers = new WeakMap<object, number>();
  app.addHook('onRequest', async (request, reply) => {
    timers.set(request, performance.now());
    serverMetrics.inFlight.inc();
    const origin = request.headers.origin;
    if (origin !== undefined && resolved.corsOrigins.includes(origin)) {
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        void reply
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header('access-control-allow-headers', 'authorization, content-type')
          .code(204)
          .send();
        return reply;
      }
    }
    const path = request.url.split('?')[0]!;
    if (check !== undefined && !publicRoutes.has(path) && !path.startsWith('/admin/')) check(request.headers.authorization);
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    serverMetrics.inFlight.dec();
    const started = timers.get(request);
    if (started !== undefined) {
      const route = request.routeOptions.url ?? 'unmatched';
      serverMetrics.requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, (performance.now() - started) / 1000);
    }
  });

  await app.register(healthRoutes, { context });
  await app.register(modelsRoutes, { context });
  await app.register(chatCompletionsRoutes, { context });
  await app.register(runsRoutes, { context });
  await app.register(opsRoutes, { context, adminKey: options.adminKey });

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    async listen() {
      await app.listen({ host: resolved.host, port: resolved.port });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    close() {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          context.shutdown.abort();
          app.server.closeAllConnections?.();
        }, resolved.shutdownTimeoutMs);
        // Connections that finish their last request while closing would otherwise idle on keep-alive until
        // the timer: close each as soon as it is idle.
        const sweep = setInterval(() => app.server.closeIdleConnections?.(), 50);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(timer);
          context.shutdown.abort();
        }
      })();
      return closing;
    },
  };
}
