/**
 * The Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`) against the server on a tiny random-weight GLM:
 * `generateText` with tools over several steps (tool calls forced: random weights write nonsense prose) and
 * `streamText`.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { useTinyServer, weatherToolLoop } from './server-helpers';

const served = useTinyServer('server-ai-sdk');
const model = () => createOpenAICompatible({ name: 'autoglm', baseURL: `${served.url}/v1`, includeUsage: true }).chatModel('tiny');

describe('chat completions with the AI SDK', () => {
  it('generateText runs a tool loop over several steps', async () => {
    // OpenAI-legal name: the server hands the model `weather.lookup` and maps the call back.
    const result = await weatherToolLoop(model(), 'weather__lookup');
    expect(result.totalUsage.outputTokens).toBeGreaterThan(0);
  });

  it('streamText streams text deltas and ends with usage', async () => {
    const result = streamText({ model: model(), prompt: 'Say something.', maxOutputTokens: 8, temperature: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(await result.finishReason);
    expect((await result.usage).outputTokens).toBeLessThanOrEqual(8);
  });
});
