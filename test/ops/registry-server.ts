/**
 * A server over a ModelRegistry of tiny models on 127.0.0.1, port 0, for the ops tests; `close` stops the server
 * and unloads every version.
 */
import { createServer, type AutoglmServer } from '../../src/server/create-server';
import { ModelRegistry } from '../../src/server/model-registry';
import type { CreateServerOptions } from '../../src/server/server-options';

export interface RegistryServer {
  registry: ModelRegistry;
  server: AutoglmServer;
  url: string;
  close(): Promise<void>;
}

export async function startRegistryServer(models: Record<string, string>, options: Omit<CreateServerOptions, 'models'> = {}): Promise<RegistryServer> {
  const registry = await ModelRegistry.open({ models, loadOptions: { threads: 1 } });
  const server = await createServer({ models: registry, port: 0, ...options });
  const url = await server.listen();
  return {
    registry,
    server,
    url,
    async close() {
      await server.close();
      await registry.dispose();
    },
  };
}
