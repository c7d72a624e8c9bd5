/**
 * The operations routes the server mounts beside the API: the admin API (only with an admin key, only over a
 * ModelRegistry) and the status page.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ServerConfigError } from '../errors';
import { adminRoutes } from './admin-routes';
import { ModelRegistry } from './model-registry';
import { registerOpsMetrics } from './ops-metrics';
import { statusPageRoutes } from './status-page-routes';
import type { ServerContext } from './server-context';

export interface OpsRoutesOptions {
  context: ServerContext;
  /** The admin API's bearer key; without it the admin routes are not mounted. */
  adminKey?: string;
}

export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { context, adminKey }) => {
  registerOpsMetrics(app, context);
  if (context.models instanceof ModelRegistry) context.models.useMetrics(context.metrics);
  await app.register(statusPageRoutes, { context, adminEnabled: adminKey !== undefined });
  if (adminKey === undefined) return;
  if (adminKey.length < 8) {
    throw new ServerConfigError('createServer: adminKey must be at least 8 characters.', { details: { field: 'adminKey' } });
  }
  if (adminKey === context.options.apiKey) {
    throw new ServerConfigError('createServer: adminKey must differ from apiKey, or every API client could update and roll back models.', {
      details: { field: 'adminKey' },
    });
  }
  if (!(context.models instanceof ModelRegistry)) {
    throw new ServerConfigError('createServer: adminKey needs `models` to be a ModelRegistry (the admin API updates and rolls back its versions).', {
      details: { field: 'adminKey' },
    });
  }
  await app.register(adminRoutes, { context, registry: context.models, adminKey });
};
