/**
 * Shared set-up of the server tests: a tiny random-weight GLM served on 127.0.0.1, port 0, for one test file.
 */
import { generateText, stepCountIs, tool } from 'ai';
import { afterAll, beforeAll, expect } from 'vitest';
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

/**
 * `generateText` over three forced tool-call steps with the weather tool under `toolName`; asserts each step made
 * one valid call that ran, and returns the result for further checks.
 */
export async function weatherToolLoop(model: Parameters<typeof generateText>[0]['model'], toolName: string) {
  const calls: string[] = [];
  const result = await generateText({
    model,
    prompt: 'Weather in Paris, then Rome.',
    tools: { [toolName]: weatherTool(calls) },
    toolChoice: 'required',
    stopWhen: stepCountIs(3),
    maxOutputTokens: 32,
  });
  expect(result.steps).toHaveLength(3);
  expect(calls).toHaveLength(3);
  for (const step of result.steps) {
    expect(step.toolCalls.map((call) => call.toolName)).toEqual([toolName]);
    expect(['Paris', 'Rome']).toContain((step.toolCalls[0]!.input as { city: string }).city);
    expect(step.toolResults).toHaveLength(1);
  }
  return result;
}
