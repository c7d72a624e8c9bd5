/**
 * The pure parts of the OpenAI adapter: the reversible tool-name rule, request validation that names the field,
 * message mapping into GLM chat messages, and the splitter that turns GLM output into text or one tool call.
 */
import { describe, expect, it } from 'vitest';
import { GlmOutputSplitter } from '../../src/server/glm-output-splitter';
import { parseChatRequest, toGlmRequest } from '../../src/server/openai/chat-request';
import { fromOpenAiToolName, toOpenAiToolName } from '../../src/server/openai/tool-names';

const base = { model: 'tiny', messages: [{ role: 'user', content: 'hi' }] };

describe('tool names', () => {
  it('maps dots to double underscores and back, and refuses names the rule cannot reverse', () => {
    for (const name of ['pdf.extract', 'finance.keyFigures', 'plain', 'a.b.c', 'with-dash_and_underscore']) {
      expect(fromOpenAiToolName(toOpenAiToolName(name))).toBe(name);
    }
    expect(toOpenAiToolName('pdf.extract')).toBe('pdf__extract');
    expect(() => toOpenAiToolName('bad__name')).toThrow(expect.objectContaining({ code: 'SERVER_REQUEST' }));
    expect(() => fromOpenAiToolName('has space')).toThrow(/not a valid OpenAI function name/);
  });
});

describe('chat request validation', () => {
  it.each([
    [{ n: 3 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ logit_bias: { 1: 2 } }, 'logit_bias'],
    [{ messages: [{ role: 'function', content: 'x', name: 'f' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }] }, 'messages[0].content'],
    [{ temperature: 3 }, 'temperature'],
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  ])('refuses %j naming %s', (extra, param) => {
    expect(() => parseChatRequest({ ...base, ...extra })).toThrow(expect.objectContaining({ details: expect.objectContaining({ status: 400, param }) }));
  });

  it('maps messages, tools, a named tool_choice, json_schema and sampling options to GLM input', () => {
    const request = parseChatRequest({
      model: 'tiny',
      messages: [
        { role: 'developer', content: 'Be exact.' },
        { role: 'user', content: [{ type: 'text', text: 'Q1 ' }, { type: 'text', text: 'revenue?' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'pdf__search', arguments: '{"q":"revenue"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'page 3' },
      ],
      tools: [
        { type: 'function', function: { name: 'pdf__search', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
        { type: 'function', function: { name: 'other' } },
      ],
      tool_choice: { type: 'function', function: { name: 'pdf__search' } },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
      max_completion_tokens: 9,
      temperature: 0.5,
      top_p: 0.9,
      seed: 4,
      stop: 'END',
    });
    const glm = toGlmRequest(request, 256);
    expect(glm.messages).toEqual([
      { role: 'system', content: 'Be exact.' },
      { role: 'user', content: 'Q1 revenue?' },
      { role: 'assistant', metadata: 'pdf.search', content: '{"q":"revenue"}' },
      { role: 'observation', content: 'page 3' },
    ]);
    expect(glm.options).toMatchObject({ maxNewTokens: 9, temperature: 0.5, topP: 0.9, seed: 4, stop: ['END'], toolChoice: 'required', schema: { type: 'object' } });
    expect(glm.options.tools!.map((tool) => tool.name)).toEqual(['pdf.search']);
    expect(() => toGlmRequest(parseChatRequest({ ...base, tools: [], tool_choice: 'required' }), 256)).toThrow(/needs at least one tool/);
  });
});

describe('GlmOutputSplitter', () => {
  it('splits a tool call written in pieces into its name and argument deltas', () => {
    const splitter = new GlmOutputSplitter(true);
    const parts = ['pdf', '.search\n{"q"', ':"x"}'].flatMap((piece) => splitter.push(piece));
    expect(parts).toEqual([
      { type: 'tool-call-start', name: 'pdf.search' },
      { type: 'tool-arguments', delta: '{"q"' },
      { type: 'tool-arguments', delta: ':"x"}' },
    ]);
    expect(splitter.toolCall).toEqual({ name: 'pdf.search', arguments: '{"q":"x"}' });
  });

  it('treats a leading newline as an answer, and no tools as plain text', () => {
    const answer = new GlmOutputSplitter(true);
    expect([...answer.push('\nHel'), ...answer.push('lo')].map((part) => part.type === 'text' && part.delta)).toEqual(['Hel', 'lo']);
    expect(answer.toolCall).toBeUndefined();
    const plain = new GlmOutputSplitter(false);
    expect(plain.push('a\nb')).toEqual([{ type: 'text', delta: 'a\nb' }]);
    const cut = new GlmOutputSplitter(true);
    expect(cut.push('unfinished')).toEqual([]);
    expect(cut.end()).toEqual([{ type: 'text', delta: 'unfinished' }]);
  });
});
