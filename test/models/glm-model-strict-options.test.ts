import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, GenerationError, ModelLoadError } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';

let root: string;
let model: GlmModel;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-strict-'));
  await createTinyGlm(root, { family: 'glm', seed: 3, maxPositionEmbeddings: 64 });
  model = await GlmModel.load(root, { runIn: 'main' });
});

afterAll(async () => {
  await model?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('GlmModel refuses what it does not know', () => {
  it('load: an unknown option names the nearest one', async () => {
    await expect(GlmModel.load(root, { dtpye: 'fp32' } as never)).rejects.toThrow(ModelLoadError);
    await expect(GlmModel.load(root, { dtpye: 'fp32' } as never)).rejects.toThrow(/GlmModel.load options: unknown option "dtpye" \(did you mean "dtype"\?\)/);
  });

  it("load: the former `thread` option points to `runIn` (where the session runs), not to `threads` (how many)", async () => {
    await expect(GlmModel.load(root, { thread: 'main' } as never)).rejects.toThrow(ModelLoadError);
    await expect(GlmModel.load(root, { thread: 'main' } as never)).rejects.toThrow(/GlmModel.load options: unknown option "thread" \(did you mean "runIn"\?\)/);
  });

  it('load: an execution provider outside the supported set is a clear error, not a corrupt model file', async () => {
    const error = await GlmModel.load(root, { executionProvider: 'webgpu' } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toBe(
      'GlmModel.load options: executionProvider "webgpu" is not supported; use one of cpu, cuda. autoglm runs ONNX Runtime for Node, whose binaries carry the CPU and (on linux-x64 with CUDA 12) the CUDA provider.',
    );
  });

  it('generate: option names from other libraries are errors with a suggestion', async () => {
    await expect(model.generate('hi', { maxTokens: 4 } as never)).rejects.toThrow(GenerationError);
    await expect(model.generate('hi', { maxTokens: 4 } as never)).rejects.toThrow(/generate options: unknown option "maxTokens" \(did you mean "maxNewTokens"\?\)/);
    await expect(model.generate('hi', { stopSequences: ['x'] } as never)).rejects.toThrow(/did you mean "stop"/);
    await expect(model.generate('hi', { abortSignal: new AbortController().signal } as never)).rejects.toThrow(/did you mean "signal"/);
    const stream = model.stream('hi', { max_new_tokens: 4 } as never);
    await expect(stream.next()).rejects.toThrow(/did you mean "maxNewTokens"/);
  });

  it('chat messages: an unknown role or field is refused, naming the message', async () => {
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'tool', content: '{"ok":true}' },
    ];
    await expect(model.generate(messages as never, { maxNewTokens: 2 })).rejects.toThrow(
      /chat message 1: role "tool" is not supported \(did you mean "observation"\?\); use one of system, user, assistant, observation\./,
    );
    expect(() => model.countTokens([{ role: 'user', content: 'hi', name: 'bob' }] as never)).toThrow(/chat message 0: unknown field "name"/);
    expect(() => model.countTokens([{ role: 'user', content: 5 }] as never)).toThrow(/chat message 0: content must be a string/);
  });

  it('still runs with every known option', async () => {
    const result = await model.generate([{ role: 'user', content: 'hi' }], { maxNewTokens: 2, temperature: 0, stop: [], seed: 1 });
    expect(result.usage.completionTokens).toBeGreaterThan(0);
  });
});
