import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { ChatMessage, GenerateOptions, ToolSpec } from '../../src/models/language-model';

// Issue 18 item 11: with more than 32 interleaved conversations, a conversation's next prompt lost the ids its model
// had generated (a global 32-entry memory, evicted under load) and its output differed from its serial twin.
const CONVERSATIONS = 44;
let root: string;
let directory: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'model-determinism-'));
  directory = path.join(root, 'model');
  await createTinyGlm(directory, { seed: 21 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const firstTurn = (index: number): ChatMessage[] => [
  { role: 'system', content: 'You are a careful analyst.' },
  { role: 'user', content: `Question ${index}: what changed in revenue?` },
];
// With tools and toolChoice 'none' the grammar makes the answer `\n` + text, as a GLM chat answer is: the content the
// chat template renders after `<|assistant|>`, so the next prompt shows the generation (as an agent's steps do).
const tools: ToolSpec[] = [{ name: 'ledger_read', description: 'Read the ledger', parameters: { type: 'object', properties: { month: { type: 'integer' } } } }];
const options = (index: number): GenerateOptions => ({ maxNewTokens: 10, temperature: 0.9, seed: 100 + index, tools, toolChoice: 'none' });
const secondTurn = (index: number, first: { text: string }): ChatMessage[] => [
  ...firstTurn(index),
  { role: 'assistant', content: first.text.replace(/^\n/, '') },
  { role: 'user', content: 'And costs?' },
];

interface Run {
  secondPrompt: number[];
  secondTokens: number[];
}

/** One conversation's two turns, the second showing the model its first answer. */
async function turns(model: GlmModel, index: number, first: { text: string }): Promise<Run> {
  const second = secondTurn(index, first);
  const secondPrompt = model.promptTokenIds(second, { tools });
  const result = await model.generate(second, options(index));
  return { secondPrompt, secondTokens: result.tokenIds };
}

it(`${CONVERSATIONS} interleaved conversations run exactly as their serial twins`, async () => {
  const model = await GlmModel.load(directory, { runIn: 'main' });
  try {
    // A model that generated nothing gives the canonical encoding of each second prompt.
    const fresh = await GlmModel.load(directory, { runIn: 'main' });
    const serial: Run[] = [];
    let spliced = 0;
    try {
      for (let index = 0; index < CONVERSATIONS; index++) {
        const first = await model.generate(firstTurn(index), options(index));
        const run = await turns(model, index, first);
        if (fresh.promptTokenIds(secondTurn(index, first), { tools }).join() !== run.secondPrompt.join()) spliced++;
        serial.push(run);
      }
    } finally {
      await fresh.dispose();
    }
    // The test means something only if second prompts carry generated ids that re-encoding would change.
    expect(spliced).toBeGreaterThanOrEqual(5);

    // Interleaved: every first turn, then every second turn (as 44 concurrent agents would reach them).
    const firsts = await Promise.all(Array.from({ length: CONVERSATIONS }, (_, index) => model.generate(firstTurn(index), options(index))));
    const interleaved = await Promise.all(firsts.map((first, index) => turns(model, index, first)));
    for (let index = 0; index < CONVERSATIONS; index++) {
      expect(interleaved[index]!.secondPrompt, `conversation ${index}`).toEqual(serial[index]!.secondPrompt);
      expect(interleaved[index]!.secondTokens, `conversation ${index}`).toEqual(serial[index]!.secondTokens);
    }
  } finally {
    await model.dispose();
  }
});
