import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm, type TinyGlmInfo } from '../../src/index';
import { loadReferenceModel, referenceForward } from '../support/reference-forward';

env.allowRemoteModels = false;

// Peer check: transformers.js (which runs `glm`, not `glm4`) loads the tiny directory and agrees with the reference.
describe('a tiny glm directory in @huggingface/transformers', () => {
  let root: string;
  let info: TinyGlmInfo;
  let model: PreTrainedModel;
  let tokenizer: PreTrainedTokenizer;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-peer-'));
    info = await createTinyGlm(path.join(root, 'glm'), { family: 'glm', hiddenSize: 64, heads: 4, kvHeads: 2, seed: 3 });
    tokenizer = await AutoTokenizer.from_pretrained(info.directory, { local_files_only: true });
    model = await AutoModelForCausalLM.from_pretrained(info.directory, { local_files_only: true, dtype: 'fp32' });
  });
  afterAll(async () => {
    await model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('computes the reference logits in a forward pass', async () => {
    const inputs = tokenizer('The quarterly report shows revenue', { add_special_tokens: false });
    const ids = Array.from(inputs.input_ids.data as BigInt64Array, Number);
    const output = (await model(inputs)) as { logits: Tensor };
    const expected = referenceForward(loadReferenceModel(info.directory), { inputIds: [ids] });
    const vocab = info.options.vocab;
    const logits = output.logits.data as Float32Array;
    // transformers.js asks for the last position only (num_logits_to_keep) in a plain forward call.
    const positions = output.logits.dims[1];
    let max = 0;
    for (let p = 0; p < positions; p++) {
      const s = ids.length - positions + p;
      for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(logits[p * vocab + v] - expected.logits[0][s][v]));
    }
    expect(max).toBeLessThan(1e-4);
  });

  it('generates the same greedy tokens as the reference', async () => {
    const inputs = tokenizer('What is the weather in the city', { add_special_tokens: false });
    const prompt = Array.from(inputs.input_ids.data as BigInt64Array, Number);
    const generated = (await model.generate({ ...inputs, max_new_tokens: 8, do_sample: false, eos_token_id: [] } as never)) as Tensor;
    const peerTokens = (generated.tolist() as bigint[][])[0].map(Number).slice(prompt.length);

    const reference = loadReferenceModel(info.directory);
    const sequence = [...prompt];
    for (let step = 0; step < 8; step++) {
      const logits = referenceForward(reference, { inputIds: [sequence] }).logits[0].at(-1)!;
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
      sequence.push(best);
    }
    expect(peerTokens).toEqual(sequence.slice(prompt.length));
  });
});
