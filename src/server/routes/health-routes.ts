/**
 * `GET /healthz` (the process answers), `GET /readyz` (every model loaded and warm), `GET /metrics` (Prometheus).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../server-context';

export const healthRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  /** `name@version` of the models that ran one generation since they were provided. */
  const warm = new Set<string>();
  const warmUp = async () => {
    for (const { name, version } of context.models.list()) {
      const key = `${name}@${version}`;
      if (warm.has(key)) continue;
      const provided = context.models.get(name);
      if (provided === undefined) continue;
      // The first generation pays for graph optimisation and allocations; do it before traffic does.
      await provided.model.generate('warm-up', { maxNewTokens: 1, prefixCache: false, signal: context.shutdown.signal });
      warm.add(key);
    }
  };
  /** One warm-up pass at a time; a provider that later serves a new version gets it warmed on the next /readyz. */
  let warming = false;
  const startWarmUp = () => {
    if (warming) return;
    warming = true;
    void warmUp()
      .catch((error: unknown) => context.logger.error({ err: error }, 'model warm-up failed'))
      .finally(() => {
        warming = false;
      });
  };
  if (context.options.warmup) app.addHook('onReady', async () => startWarmUp());
  const isReady = () =>
    (context.models.ready?.() ?? true) && (!context.options.warmup || context.models.list().every(({ name, version }) => warm.has(`${name}@${version}`)));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (isReady()) return { status: 'ready', models: context.models.list() };
    if (context.options.warmup) startWarmUp();
    return reply.code(503).send({ status: 'not ready', models: context.models.list().map((entry) => ({ ...entry, warm: warm.has(`${entry.name}@${entry.version}`) })) });
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', context.metrics.contentType);
    return context.metrics.text();
  });
};
