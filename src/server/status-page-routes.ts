/**
 * The status page: `GET /` (static HTML, no data, public), `GET /status` (a snapshot: models and versions, queue
 * depth, recent runs with their steps) and `GET /status/events` (SSE: a snapshot after every model or run change,
 * and every few seconds). Both data routes sit behind the API key like the rest of the API; the page sends it.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { ModelRegistry } from './model-registry';
import type { ServerContext } from './server-context';
import { statusPageHtml, statusPageScript } from './status-page-html';

/** The snapshot `/status` answers and `/status/events` streams. */
export function statusSnapshot(context: ServerContext, adminEnabled: boolean): Record<string, unknown> {
  const registry = context.models instanceof ModelRegistry ? context.models : undefined;
  const models = (registry?.status() ?? context.models.list().map(({ name, version }) => ({ name, active: { version, loaded: true } }))).map((model) => ({
    ...model,
    queueDepth: context.queue.depth(model.name),
  }));
  return {
    at: Date.now(),
    admin: adminEnabled,
    registry: registry !== undefined,
    memory: { rssBytes: process.memoryUsage.rss() },
    models,
    runs: context.runs?.list(20) ?? [],
  };
}

// The script is inline and allowed by its hash, so the page needs no second public route and runs no other script.
const scriptHash = createHash('sha256').update(statusPageScript).digest('base64');
const contentSecurityPolicy = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export const statusPageRoutes: FastifyPluginAsync<{ context: ServerContext; adminEnabled: boolean }> = async (app, { context, adminEnabled }) => {
  app.get('/', async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(statusPageHtml),
  );

  app.get('/status', async () => statusSnapshot(context, adminEnabled));

  // Open event streams end when the server closes, so a graceful close does not wait for the pages' tabs.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.get('/status/events', async (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let pending: NodeJS.Timeout | undefined;
    const send = () => {
      pending = undefined;
      reply.raw.write(`event: snapshot\ndata: ${JSON.stringify(statusSnapshot(context, adminEnabled))}\n\n`);
    };
    // Bursts of events (a run's steps, tokens of an agent) collapse into one snapshot per 100 ms.
    const changed = () => {
      pending ??= setTimeout(send, 100);
    };
    const stops = [
      context.models instanceof ModelRegistry ? context.models.subscribe(changed) : () => undefined,
      context.runs?.watch(changed) ?? (() => undefined),
    ];
    const heartbeat = setInterval(send, 2000);
    const close = () => {
      clearInterval(heartbeat);
      clearTimeout(pending);
      for (const stop of stops) stop();
    };
    const end = () => {
      close();
      reply.raw.end();
    };
    streams.add(end);
    request.raw.on('close', () => {
      streams.delete(end);
      close();
    });
    send();
  });
};
