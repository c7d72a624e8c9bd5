/**
 * Shared set-up of the server tests: a tiny random-weight GLM served on 127.0.0.1, port 0, for one test file.
 */
import { afterAll, beforeAll } from 'vitest';
import { createServer, type AutoglmServer } from '../../src/server/create-server';
import type { CreateServerOptions } from '../../src/server/server-options';
import { useTinyModel } from '../agent/onnx-helpers';

export function useTinyServer(prefix: string, options: Partial<CreateServerOptions> = {}): { readonly url: string; readonly server: AutoglmServer; readonly model: ReturnType<typeof useTinyModel>['model'] } {
  const tiny = useTinyModel(prefix);
  let server: AutoglmServer | undefined;
  let url = '';
  beforeAll(async () => {
    server = await createServer({ models: { tiny: tiny.model }, port: 0, ...options });
    url = await server.listen();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });
  return {
    get url() {
      return url;
    },
    get server() {
      return server!;
    },
    get model() {
      return tiny.model;
    },
  };
}
