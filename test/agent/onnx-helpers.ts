/**
 * Shared set-up of the agent tests on the real engine: a tiny random-weight GLM written once per test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentResult } from '../../src/agent/agent-events';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import type { TinyGlmOptions } from '../../src/models/tiny/tiny-glm-options';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Writes a tiny GLM into a fresh temporary directory; `cleanup` removes it. */
export async function tinyModelDirectory(prefix: string, options: TinyGlmOptions = {}): Promise<{ directory: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const info = await createTinyGlm(path.join(root, 'model'), options);
  return { directory: info.directory, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A step whose model output was cut off at maxNewTokens (the agent says so in the error it shows the model). */
export function wasCutOff(step: AgentResult['steps'][number]): boolean {
  return step.result?.ok === false && step.result.error.message.includes('cut off at');
}
