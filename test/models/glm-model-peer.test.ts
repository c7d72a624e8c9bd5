import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';

let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-peer-'));
  dir = path.join(root, 'glm');
  await createTinyGlm(dir, { family: 'glm', seed: 21 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('peer check against transformers.js', () => {
  it('AutoModelForCausalLM.generate (greedy, local files only) produces the same tokens as GlmModel', async () => {
    const model = await GlmModel.load(dir);
    const prompt = model.tokenize('The quick brown fox jumps over the lazy dog');
    const ours = await model.generate(prompt, { maxNewTokens: 24, temperature: 0 });
    await model.dispose();

    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    const peer = await AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    try {
      const inputIds = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const output = (await peer.generate({
        input_ids: inputIds,
        attention_mask: new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]),
        max_new_tokens: 24,
        do_sample: false,
      })) as Tensor;
      const theirs = Array.from(output.data as BigInt64Array, Number).slice(prompt.length);
      expect(ours.tokenIds.length).toBeGreaterThan(0);
      // transformers.js stops on the same eos ids (from generation_config.json); compare the common length.
      expect(theirs.length).toBe(ours.tokenIds.length);
      expect(theirs).toEqual(ours.tokenIds);
    } finally {
      await peer.dispose();
    }
  });
});
