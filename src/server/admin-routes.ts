/**
 * The admin API, on only when the server has an admin key (`--admin-key`, `AUTOGLM_ADMIN_KEY`), checked as
 * `Authorization: Bearer KEY` in constant time and separate from the API key:
 * `GET /admin/models`, `POST /admin/models/:name/update` `{ "path": DIR }`, `POST /admin/models/:name/rollback`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ModelRegistryError, ModelRollbackError, ModelUpdateError, ServerRequestError } from '../errors';
import { createBearerCheck } from './auth';
import type { ModelRegistry } from './model-registry';
import type { ServerContext } from './server-context';

export interface AdminRoutesOptions {
  context: ServerContext;
  registry: ModelRegistry;
  adminKey: string;
}

function requestError(message: string, status: number, param: string | null = null): ServerRequestError {
  return new ServerRequestError(message, { details: { status, param } });
}

/** Registry errors as HTTP: unknown model 404, nothing to roll back 409, a version that failed to load 422. */
function httpError(error: unknown): unknown {
  if (error instanceof ModelRegistryError) return requestError(error.message, error.details.known === undefined ? 400 : 404, 'name');
  if (error instanceof ModelUpdateError) return requestError(error.message, 422, 'path');
  if (error instanceof ModelRollbackError) return requestError(error.message, 409);
  return error;
}

function parseUpdateBody(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw requestError('The update body must be a JSON object: { "path": "/models/my-model-v2" }.', 400);
  }
  const unknown = Object.keys(body).find((key) => key !== 'path');
  if (unknown !== undefined) throw requestError(`Unknown field "${unknown}" in the update body; the only field is "path" (the new version's directory).`, 400, unknown);
  const { path } = body as { path?: unknown };
  if (typeof path !== 'string' || path.trim() === '') {
    throw requestError('"path" must be the new version\'s model directory (a non-empty string, as seen by the server).', 400, 'path');
  }
  return path;
}

export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { context, registry, adminKey }) => {
  const check = createBearerCheck(adminKey);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/admin/')) return;
    try {
      check(request.headers.authorization);
    } catch {
      throw new ServerRequestError('Missing or wrong admin key: admin routes need "Authorization: Bearer <admin key>" (the server\'s --admin-key), not the API key.', {
        details: { status: 401, type: 'authentication_error', param: null, openAiCode: 'invalid_admin_key' },
      });
    }
  });

  app.get('/admin/models', async () => ({
    models: registry.status().map((status) => ({ ...status, queueDepth: context.queue.depth(status.name) })),
  }));

  app.post<{ Params: { name: string } }>('/admin/models/:name/update', async (request) => {
    const directory = parseUpdateBody(request.body);
    try {
      // Updates replace a served model's version; adding a model is configuration (`--model`), not an admin call.
      registry.activeVersion(request.params.name);
      return await registry.update(request.params.name, directory);
    } catch (error) {
      throw httpError(error);
    }
  });

  app.post<{ Params: { name: string } }>('/admin/models/:name/rollback', async (request) => {
    try {
      return await registry.rollback(request.params.name);
    } catch (error) {
      throw httpError(error);
    }
  });
};
