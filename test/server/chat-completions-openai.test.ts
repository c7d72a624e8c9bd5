/**
 * The official `openai` client against `autoglm serve`'s chat completions, on a tiny random-weight GLM: plain chat,
 * streaming with usage, a tool-call round trip, and structured output through its zod helper. Random weights write
 * nonsense, so tool calls are forced (`required` / named) and the assertions are on shape and validity.
 */
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useTinyServer } from './server-helpers';

const served = useTinyServer('server-openai');
const client = () => new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });

const weather = {
  type: 'function' as const,
  function: {
    name: 'weather__lookup',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'], additionalProperties: false },
  },
};

describe('chat completions with the openai client', () => {
  it('answers a chat and lists the model', async () => {
    const completion = await client().chat.completions.create({ model: 'tiny', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], max_tokens: 8, temperature: 0 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(typeof completion.choices[0]!.message.content).toBe('string');
    expect(['stop', 'length']).toContain(completion.choices[0]!.finish_reason);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(8);
    const models = await client().models.list();
    expect(models.data.map((model) => model.id)).toEqual(['tiny']);
  });

  it('streams content deltas, a finish reason and usage in the last chunk', async () => {
    const stream = await client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Count' }], max_tokens: 6, stream: true, stream_options: { include_usage: true }, seed: 3, temperature: 0.7 });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(['stop', 'length']).toContain(finish!.choices[0]!.finish_reason);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeLessThanOrEqual(6);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
  });

  it('honours stop strings and reproduces a sampled answer from its seed', async () => {
    const greedy = await client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Go on' }], max_tokens: 12, temperature: 0 });
    const text = greedy.choices[0]!.message.content!;
    const stop = text.slice(3, 5);
    const stopped = await client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Go on' }], max_tokens: 12, temperature: 0, stop: [stop] });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(stop)));
    const sampled = () => client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Go on' }], max_tokens: 12, temperature: 1, top_p: 0.9, seed: 42 });
    expect((await sampled()).choices[0]!.message.content).toBe((await sampled()).choices[0]!.message.content);
  });

  it('runs a tool-call round trip: required call -> tool result -> answer', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client().chat.completions.create({ model: 'tiny', messages, tools: [weather], tool_choice: 'required', max_tokens: 32 });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('weather__lookup');
    expect(['Paris', 'Rome']).toContain(JSON.parse(call.function.arguments).city);
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ celsius: 21 }) });
    const answer = await client().chat.completions.create({ model: 'tiny', messages, tools: [weather], tool_choice: 'none', max_tokens: 8 });
    expect(answer.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(typeof answer.choices[0]!.message.content).toBe('string');
  });

  it('streams a named tool call as tool-call deltas', async () => {
    const stream = await client().chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'weather__lookup' } },
      max_tokens: 32,
      stream: true,
    });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      for (const call of delta?.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('weather__lookup');
    expect(['Paris', 'Rome']).toContain(JSON.parse(args).city);
    expect(finish).toBe('tool_calls');
  });

  it('returns structured output parsed by the zod helper', async () => {
    const Verdict = z.object({ choice: z.enum(['yes', 'no']), sure: z.boolean() });
    const completion = await client().chat.completions.parse({ model: 'tiny', messages: [{ role: 'user', content: 'Decide.' }], response_format: zodResponseFormat(Verdict, 'verdict'), max_tokens: 48 });
    const parsed = completion.choices[0]!.message.parsed!;
    expect(Verdict.parse(parsed)).toEqual(parsed);
  });

  it('refuses unsupported and unknown fields with a 400 naming the field', async () => {
    await expect(client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], n: 2 })).rejects.toMatchObject({ status: 400, param: 'n' });
    await expect(client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], logprobs: true })).rejects.toMatchObject({ status: 400, param: 'logprobs' });
    const unknown = await fetch(`${served.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], frobnicate: 1 }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: unknown }).error).toMatchObject({ param: 'frobnicate', type: 'invalid_request_error' });
    await expect(client().chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
