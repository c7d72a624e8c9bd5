/**
 * Model-bound steps on `autoglm worker --model NAME=DIR` with a real ONNX model (createTinyGlm, random weights):
 * they go only to the worker that has the model (a tools-only worker runs beside it), and their greedy outputs equal
 * a local run's on the same model.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlmModel } from '../../src/models/glm-model';
import { createTinyGlm } from '../../src/index';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { BullmqExecutor } from '../../src/workflows/executors/bullmq-executor';
import { Workflow } from '../../src/workflows/workflow';
import { RedisServer } from '../support/redis-server';
import { faultPlugin, spawnWorker, type WorkerProcess } from '../support/scale-out-fixtures';

describe('model-bound steps on an `autoglm worker --model` (real ONNX)', () => {
  let redis: RedisServer;
  let root: string;
  let modelDir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    root = await mkdtemp(path.join(os.tmpdir(), 'autoglm-model-worker-'));
    modelDir = (await createTinyGlm(path.join(root, 'tiny'), { seed: 5 })).directory;
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await redis?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('runs usesModel steps only where the model is, with the outputs of a local run', async () => {
    const spec = Workflow.define({
      name: 'model-steps',
      steps: [
        ...['alpha', 'beta', 'gamma'].map((word) => ({ id: word, uses: 'model.complete', usesModel: true, with: { prompt: `Say ${word}`, maxNewTokens: 6 } })),
        { id: 'digest', uses: 'fault.step', needs: ['alpha', 'beta', 'gamma'], with: { ms: 0, inputs: { a: '${{ steps.alpha.output.tokenIds }}', b: '${{ steps.beta.output.tokenIds }}' } } },
      ],
    });
    const model = await GlmModel.load(modelDir, { executionProvider: 'cpu' });
    const tools = new ToolRegistry([], { roots: [root] });
    await tools.use(faultPlugin);
    const local = await spec.run({ tools, model });
    await model.dispose();
    expect(local.status).toBe('succeeded');

    const env = { ...process.env };
    delete env.AUTOGLM_TEST_EFFECTS_DIR;
    workers.push(spawnWorker(redis.url, env), spawnWorker(redis.url, env, ['--model', `tiny=${modelDir}`]));
    await Promise.all(workers.map((worker) => worker.ready));
    expect(workers[1]!.stderr()).toMatch(/queues tools, model-tiny/);
    await using executor = new BullmqExecutor({ connection: redis.url, model: 'tiny' });
    const remote = await spec.run({ executor });
    expect(remote.status).toBe('succeeded');
    expect(remote.outputs).toEqual(local.outputs);
    expect(remote.outputs.alpha).toMatchObject({ family: 'glm' });
  }, 120_000);
});
