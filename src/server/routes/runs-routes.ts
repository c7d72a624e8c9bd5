/**
 * The runs API: `POST /v1/runs` -> 202 `{ id }`, `GET /v1/runs/:id`, `GET /v1/runs/:id/events` (SSE: every event
 * so far, then live ones, then the connection closes after `run-end`), `POST /v1/runs/:id/cancel`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { RunManager } from '../runs/run-manager';
import { parseRunRequest } from '../runs/run-request';
import type { ServerContext } from '../server-context';

export const runsRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  const options = context.options.runs;
  if (options === undefined) return;
  const runs = new RunManager({ options, models: context.models, metrics: context.metrics, serverMetrics: context.serverMetrics, logger: context.logger });
  await runs.start();
  context.runs = runs;
  app.addHook('preClose', async () => runs.close());

  app.post('/v1/runs', async (request, reply) => reply.code(202).send(await runs.create(parseRunRequest(request.body))));
  app.get<{ Params: { id: string } }>('/v1/runs/:id', async (request) => runs.describe(request.params.id));
  app.post<{ Params: { id: string } }>('/v1/runs/:id/cancel', async (request, reply) => reply.code(202).send(await runs.cancel(request.params.id)));
  app.get<{ Params: { id: string } }>('/v1/runs/:id/events', async (request, reply) => {
    runs.get(request.params.id);
    reply.hijack();
    // Headers set by hooks (CORS) are kept: a hijacked reply writes its own.
    reply.raw.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let unsubscribe: (() => void) | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe?.();
      reply.raw.end();
    };
    reply.raw.on('close', end);
    unsubscribe = runs.subscribe(request.params.id, (event) => {
      if (event === undefined) {
        // End after the current call returns: subscribe may still be replaying.
        queueMicrotask(end);
        return;
      }
      if (!ended) reply.raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    if (ended) unsubscribe();
  });
};
