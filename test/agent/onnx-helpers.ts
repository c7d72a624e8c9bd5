/**
 * Shared set-up of the agent tests on the real engine: a tiny random-weight GLM written once per test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { AgentResult } from '../../src/agent/agent-events';
import { GlmModel } from '../../src/models/glm-model';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import type { TinyGlmOptions } from '../../src/models/tiny/tiny-glm-options';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Writes a tiny GLM into a fresh temporary directory; `cleanup` removes it. */
export async function tinyModelDirectory(prefix: string, options: TinyGlmOptions = {}): Promise<{ directory: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const info = await createTinyGlm(path.join(root, 'model'), options);
  return { directory: info.directory, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A tiny GLM directory for the whole test file: written in beforeAll, removed in afterAll. */
export function useTinyModelDirectory(prefix: string, options: TinyGlmOptions = {}): { readonly directory: string } {
  let created: { directory: string; cleanup: () => Promise<void> } | undefined;
  beforeAll(async () => {
    created = await tinyModelDirectory(prefix, options);
  }, 60_000);
  afterAll(async () => {
    await created?.cleanup();
  });
  return {
    get directory() {
      if (!created) throw new Error('useTinyModelDirectory: read the directory inside a test, after beforeAll.');
      return created.directory;
    },
  };
}

/** A tiny GLM loaded (one ONNX Runtime thread) for the whole test file, disposed in afterAll. */
export function useTinyModel(prefix: string, options: TinyGlmOptions = {}): { readonly model: GlmModel } {
  const tiny = useTinyModelDirectory(prefix, options);
  let model: GlmModel | undefined;
  beforeAll(async () => {
    model = await GlmModel.load(tiny.directory, { threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await model?.dispose();
  });
  return {
    get model() {
      if (!model) throw new Error('useTinyModel: read the model inside a test, after beforeAll.');
      return model;
    },
  };
}

/** A step whose model output was cut off at maxNewTokens (the agent says so in the error it shows the model). */
export function wasCutOff(step: AgentResult['steps'][number]): boolean {
  return step.result?.ok === false && step.result.error.message.includes('cut off at');
}
