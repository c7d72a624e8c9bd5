import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTinyGlm } from '../../src/index';
import { GlmModel } from '../../src/models/glm-model';
import type { ChatMessage, ToolSpec } from '../../src/models/language-model';

let root: string;
let model: GlmModel;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'glm-model-constrained-'));
  await createTinyGlm(path.join(root, 'glm'), { family: 'glm', seed: 8 });
  model = await GlmModel.load(path.join(root, 'glm'));
});

afterAll(async () => {
  await model?.dispose();
  await rm(root, { recursive: true, force: true });
});

const messages: ChatMessage[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } },
    required: ['city'],
    additionalProperties: false,
  },
};

describe('GlmModel constrained generation', () => {
  it('schema: a random-weight model still writes JSON valid for the (zod) schema', async () => {
    const schema = z.object({ color: z.enum(['red', 'green', 'blue']), ok: z.boolean() });
    for (const seed of [1, 2]) {
      const result = await model.generate(messages, { schema, temperature: 1, seed, maxNewTokens: 80 });
      expect(result.finishReason).toBe('stop');
      expect(schema.safeParse(JSON.parse(result.text)).success).toBe(true);
    }
  });

  it('tools: the output is one GLM tool call with valid arguments, or an answer starting with a newline', async () => {
    for (const seed of [1, 2, 3]) {
      const result = await model.generate(messages, { tools: [weather], temperature: 1, seed, maxNewTokens: 40 });
      if (result.text.startsWith('get_weather\n')) {
        expect(result.finishReason).toBe('stop');
        const args = JSON.parse(result.text.slice('get_weather\n'.length)) as { city: string };
        expect(['Paris', 'Rome']).toContain(args.city);
      } else {
        expect(result.text.startsWith('\n')).toBe(true);
      }
    }
    // With an output schema, the answer branch is JSON too: the whole output is one of two exact shapes.
    const forced = await model.generate(messages, {
      tools: [weather],
      schema: { type: 'string', enum: ['never-used-answer'] },
      temperature: 1,
      seed: 4,
      maxNewTokens: 40,
    });
    expect(forced.text.startsWith('get_weather\n') || forced.text === '\n"never-used-answer"').toBe(true);
  });

  it('constrained: false generates without a grammar (tools still rendered into the prompt)', async () => {
    const free = await model.generate(messages, { tools: [weather], constrained: false, maxNewTokens: 8 });
    const plain = await model.generate(messages, { maxNewTokens: 8 });
    expect(free.usage.promptTokens).toBeGreaterThan(plain.usage.promptTokens);
    expect(free.tokenIds).toHaveLength(8);
  });
});
