/**
 * `GET /v1/models` and `GET /v1/models/:id`, in OpenAI's list shape.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ServerRequestError } from '../../errors';
import type { ServerContext } from '../server-context';

const startedAt = Math.floor(Date.now() / 1000);

const entry = (name: string, version: string) => ({ id: name, object: 'model' as const, created: startedAt, owned_by: 'autoglm', version });

export const modelsRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.get('/v1/models', async () => ({ object: 'list', data: context.models.list().map(({ name, version }) => entry(name, version)) }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    const found = context.models.list().find(({ name }) => name === request.params.id);
    if (found === undefined) throw unknownModel(request.params.id, context, 'model');
    return entry(found.name, found.version);
  });
};

/** The 404 for a model name no provider knows. */
export function unknownModel(name: string, context: ServerContext, param: string): ServerRequestError {
  return new ServerRequestError(`The model "${name}" does not exist here. Served models: ${context.models.list().map((model) => model.name).join(', ') || '(none)'}.`, {
    details: { status: 404, type: 'invalid_request_error', param, openAiCode: 'model_not_found' },
  });
}
