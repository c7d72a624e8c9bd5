/**
 * Shared set-up of the server tests: a tiny random-weight GLM served on 127.0.0.1, port 0, for one test file.
 */
import { tool } from 'ai';
import { afterAll, beforeAll } from 'vitest';
import { z } from 'zod';
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

/** An AI SDK weather tool whose input has a finite schema (random weights still write a valid, short call). */
export function weatherTool(calls: string[]) {
  return tool({
    description: 'Weather of a city',
    inputSchema: z.object({ city: z.enum(['Paris', 'Rome']) }),
    execute: async ({ city }) => {
      calls.push(city);
      return { city, celsius: 20 };
    },
  });
}
