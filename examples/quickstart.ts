/**
 * Builds a tiny GLM model (random weights, no download) in a temporary directory and streams a generation from it.
 *
 *   npm run example
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GlmModel, createTinyGlm } from 'autoglm';

const dir = await mkdtemp(path.join(os.tmpdir(), 'autoglm-quickstart-'));
try {
  await createTinyGlm(dir, { family: 'glm', seed: 1 });
  await using model = await GlmModel.load(dir, { executionProvider: 'cpu' });
  process.stdout.write(`Loaded a tiny ${model.info.family} model (${model.info.layers} layers, vocabulary ${model.info.vocabSize}).\n`);
  process.stdout.write('Random weights, so expect gibberish:\n\n');
  for await (const event of model.stream([{ role: 'user', content: 'Say hello.' }], { maxNewTokens: 32, temperature: 0.8, seed: 7 })) {
    if (event.type === 'token') process.stdout.write(event.text);
    else process.stdout.write(`\n\n[${event.finishReason}] ${event.usage.completionTokens} tokens, ${event.timings.decodeTokensPerSecond.toFixed(0)} tokens/s\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
