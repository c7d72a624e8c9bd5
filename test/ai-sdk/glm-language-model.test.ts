/**
 * The autoglm AI SDK provider with the real `ai` package on a tiny random-weight GLM: a multi-step tool loop in
 * `generateText`, `streamText` with text and with a streamed tool call, `generateObject`, and clear errors for what
 * GLM cannot take. Random weights write nonsense, so calls are forced and assertions are on shape and validity.
 */
import { generateObject, generateText, streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAutoglm } from '../../src/ai-sdk/create-autoglm';
import { useTinyModel } from '../agent/onnx-helpers';
import { weatherTool, weatherToolLoop } from '../server/server-helpers';

const tiny = useTinyModel('ai-sdk-provider');
const autoglm = () => createAutoglm({ models: { tiny: tiny.model } });

describe('the autoglm AI SDK provider', () => {
  it('generateText runs a multi-step tool loop with dotted tool names', async () => {
    const result = await weatherToolLoop(autoglm()('tiny'), 'weather.lookup');
    // Later steps see the earlier calls and results in their prompt: the prefix cache reuses them.
    expect(result.steps[2]!.usage.inputTokenDetails.cacheReadTokens).toBeGreaterThan(0);
  });

  it('streamText streams text, and a forced tool call as tool-input deltas', async () => {
    const text = streamText({ model: autoglm()('tiny'), prompt: 'Say something.', maxOutputTokens: 8, temperature: 0 });
    let written = '';
    for await (const delta of text.textStream) written += delta;
    expect(written.length).toBeGreaterThan(0);
    expect((await text.usage).outputTokens).toBeLessThanOrEqual(8);

    const calls: string[] = [];
    const called = streamText({ model: autoglm()('tiny'), prompt: 'Weather?', tools: { weather: weatherTool(calls) }, toolChoice: { type: 'tool', toolName: 'weather' }, maxOutputTokens: 32 });
    const types = new Set<string>();
    for await (const part of called.fullStream) types.add(part.type);
    expect([...types]).toEqual(expect.arrayContaining(['tool-input-start', 'tool-input-delta', 'tool-call', 'tool-result', 'finish']));
    expect(await called.finishReason).toBe('tool-calls');
    expect(calls).toHaveLength(1);
  });

  it('generateObject returns an object valid for the schema', async () => {
    const Verdict = z.object({ choice: z.enum(['yes', 'no']), sure: z.boolean() });
    const { object } = await generateObject({ model: autoglm()('tiny'), schema: Verdict, prompt: 'Decide.', maxOutputTokens: 48 });
    expect(Verdict.parse(object)).toEqual(object);
  });

  it('refuses unknown models and file parts with typed errors', async () => {
    expect(() => autoglm()('gpt-4o')).toThrow(expect.objectContaining({ code: 'AI_SDK_PROVIDER' }));
    await expect(
      generateText({ model: autoglm()('tiny'), messages: [{ role: 'user', content: [{ type: 'file', data: new Uint8Array([1]), mediaType: 'image/png' }] }], maxRetries: 0 }),
    ).rejects.toMatchObject({ code: 'AI_SDK_PROVIDER' });
  });
});
