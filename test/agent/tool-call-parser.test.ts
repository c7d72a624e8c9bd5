import { describe, expect, it } from 'vitest';
import { parseToolCall } from '../../src/agent/tool-call-parser';
import { defaultChatFormat } from '../../src/models/chat-format/chat-format';

const toolNames = ['pdf.extract', 'pdf.search'];

describe('parseToolCall (strict, the constrained format)', () => {
  it('parses a call: first line the name, the rest JSON arguments', () => {
    expect(parseToolCall('pdf.search\n{"query":"revenue","limit":3}', { toolNames })).toEqual({
      type: 'call',
      name: 'pdf.search',
      args: { query: 'revenue', limit: 3 },
      argumentsText: '{"query":"revenue","limit":3}',
    });
  });

  it('parses an answer: text after the leading newline, kept verbatim', () => {
    expect(parseToolCall('\nRevenue grew 5%.\n', { toolNames })).toEqual({ type: 'answer', text: 'Revenue grew 5%.\n' });
    expect(parseToolCall('\n{"a":1}')).toEqual({ type: 'answer', text: '{"a":1}' });
  });

  it('reports an unknown tool, naming the registered ones', () => {
    const parsed = parseToolCall('web.fetch\n{"url":"x"}', { toolNames });
    expect(parsed).toMatchObject({ type: 'invalid', name: 'web.fetch' });
    expect(parsed.type === 'invalid' && parsed.reason).toContain('pdf.extract, pdf.search');
  });

  it('reports broken JSON arguments and a missing argument line', () => {
    const broken = parseToolCall('pdf.search\n{"query": "rev', { toolNames });
    expect(broken).toMatchObject({ type: 'invalid', name: 'pdf.search' });
    expect(broken.type === 'invalid' && broken.reason).toMatch(/not valid JSON/);
    expect(parseToolCall('pdf.search', { toolNames })).toMatchObject({ type: 'invalid', name: 'pdf.search' });
  });

  it('rejects prose without the leading newline in strict mode', () => {
    expect(parseToolCall('The revenue is 5.', { toolNames }).type).toBe('invalid');
    // Without toolNames any identifier-like first line is a name.
    expect(parseToolCall('any_tool\n{}')).toMatchObject({ type: 'call', name: 'any_tool', args: {} });
  });
});

describe('parseToolCall (lenient, unconstrained output)', () => {
  it('reads every call of a turn and ignores what follows each JSON object', () => {
    const parsed = parseToolCall('pdf.extract\n{"path":"a.pdf","pages":[1]} thanks<|assistant|>pdf.search\n{"query":"x"}', {
      toolNames,
      lenient: true,
    });
    expect(parsed).toEqual({
      type: 'calls',
      calls: [
        { name: 'pdf.extract', args: { path: 'a.pdf', pages: [1] }, argumentsText: '{"path":"a.pdf","pages":[1]}' },
        { name: 'pdf.search', args: { query: 'x' }, argumentsText: '{"query":"x"}' },
      ],
    });
  });

  it('takes only the first call where the format has no parallel calls', () => {
    const format = { ...defaultChatFormat, parallelCallSeparator: undefined };
    const parsed = parseToolCall('pdf.extract\n{"path":"a.pdf"}<|assistant|>pdf.search\n{"query":"x"}', { toolNames, lenient: true, format });
    expect(parsed).toMatchObject({ type: 'call', name: 'pdf.extract' });
  });

  it('accepts fenced arguments and braces inside strings', () => {
    const parsed = parseToolCall('  pdf.search\n```json\n{"query":"a } b"}\n```', { toolNames, lenient: true });
    expect(parsed).toMatchObject({ type: 'call', args: { query: 'a } b' } });
  });

  it('reads prose without a leading newline as an answer, but a name with JSON as a (bad) call', () => {
    expect(parseToolCall('The revenue is 5.', { toolNames, lenient: true })).toEqual({ type: 'answer', text: 'The revenue is 5.' });
    expect(parseToolCall('web.fetch\n{"url":1}', { toolNames, lenient: true })).toMatchObject({ type: 'invalid', name: 'web.fetch' });
    expect(parseToolCall('pdf.search\n{"query": ', { toolNames, lenient: true })).toMatchObject({ type: 'invalid', name: 'pdf.search' });
  });
});

describe('parseToolCall by chat format', () => {
  it('parses parallel calls separated by <|assistant|> (GLM-4-0414), and refuses a turn mixing a call and prose', () => {
    expect(parseToolCall('pdf.extract\n{"path":"a.pdf"}<|assistant|>pdf.extract\n{"path":"b.pdf"}', { toolNames })).toEqual({
      type: 'calls',
      calls: [
        { name: 'pdf.extract', args: { path: 'a.pdf' }, argumentsText: '{"path":"a.pdf"}' },
        { name: 'pdf.extract', args: { path: 'b.pdf' }, argumentsText: '{"path":"b.pdf"}' },
      ],
    });
    const mixed = parseToolCall('pdf.extract\n{"path":"a.pdf"}<|assistant|>\nDone.', { toolNames });
    expect(mixed).toMatchObject({ type: 'invalid' });
    const bad = parseToolCall('pdf.extract\n{"path":"a.pdf"}<|assistant|>web.fetch\n{}', { toolNames });
    expect(bad).toMatchObject({ type: 'invalid', name: 'web.fetch' });
    expect(bad.type === 'invalid' && bad.reason).toMatch(/^Call 2 of 2/);
  });

  it('reads answers without a leading newline where the generation prompt wrote it (GLM-Edge)', () => {
    const format = { ...defaultChatFormat, answerPrefix: '', parallelCallSeparator: undefined };
    expect(parseToolCall('Revenue grew 5%.', { toolNames, format })).toEqual({ type: 'answer', text: 'Revenue grew 5%.' });
    expect(parseToolCall('{"a":1}', { toolNames, format })).toEqual({ type: 'answer', text: '{"a":1}' });
    expect(parseToolCall('pdf.search\n{"query":"x"}', { toolNames, format })).toMatchObject({ type: 'call', name: 'pdf.search', args: { query: 'x' } });
    expect(parseToolCall('pdf.search\n{"query": ', { toolNames, format })).toMatchObject({ type: 'invalid', name: 'pdf.search' });
    expect(parseToolCall('web.fetch\n{"url":"x"}', { toolNames, format })).toMatchObject({ type: 'invalid', name: 'web.fetch' });
  });

  it('uses the one tool-name rule: no name with spaces, dashes or control-token text', () => {
    expect(parseToolCall('bad-name\n{}').type).toBe('invalid');
    expect(parseToolCall('<|user|>\n{}').type).toBe('invalid');
  });
});

describe('parseModelJson', () => {
  it('accepts raw control characters inside strings and nothing else that JSON refuses', async () => {
    const { parseModelJson } = await import('../../src/agent/parse-json');
    expect(parseModelJson('{"a":"line\none\ttab","b":"q\\"\n"}')).toEqual({ a: 'line\none\ttab', b: 'q"\n' });
    expect(parseModelJson('{\n  "a": 1\n}')).toEqual({ a: 1 });
    expect(() => parseModelJson("{'a':1}")).toThrow();
    expect(parseToolCall('pdf.search\n{"query":"net\tsales"}', { toolNames })).toMatchObject({ type: 'call', args: { query: 'net\tsales' } });
  });
});
