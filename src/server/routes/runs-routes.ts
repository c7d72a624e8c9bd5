/**
 * The runs API: `POST /v1/runs`, `GET /v1/runs/:id`, `GET /v1/runs/:id/events` (SSE), `POST /v1/runs/:id/cancel`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../server-context';

export const runsRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (_app, { context }) => {
  if (context.options.runs === undefined) return;
};
