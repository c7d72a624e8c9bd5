/** Shared by the jump-forward and draft tests and bench/decoding.bench.ts. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { Drafter } from '../../src/models/generation/drafter';
import type { LogitsProcessor } from '../../src/models/language-model';

/** Proposes the tokens of an earlier generation of the same request: drafts known to be right (the ceiling). */
export function replayDrafter(tokenIds: readonly number[]): Drafter {
  return { propose: ({ generatedIds, maxTokens }) => tokenIds.slice(generatedIds.length, generatedIds.length + maxTokens) };
}

/**
 * Steers a random-weight model to `target` (every other logit -Infinity, the target's own kept): the output a trained
 * model would write, so forced and drafted shares are those of realistic content.
 */
export function steerTo(target: readonly number[]): LogitsProcessor {
  return (logits, generated) => {
    const keep = target[generated.length];
    if (keep === undefined) return;
    const value = logits[keep]!;
    logits.fill(-Infinity);
    logits[keep] = value;
  };
}

/** One tiny GLM (seed 8) loaded twice: in its worker thread and on the calling thread; `dispose` removes it all. */
export async function loadTinyModelPair(prefix: string): Promise<{ root: string; model: GlmModel; onMain: GlmModel; dispose(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  await createTinyGlm(path.join(root, 'glm'), { family: 'glm', seed: 8 });
  const model = await GlmModel.load(path.join(root, 'glm'));
  const onMain = await GlmModel.load(path.join(root, 'glm'), { runIn: 'main' });
  const dispose = async () => {
    await model.dispose();
    await onMain.dispose();
    await rm(root, { recursive: true, force: true });
  };
  return { root, model, onMain, dispose };
}
