import { describe, expect, it } from 'vitest';
import { parseToolCall } from '../../src/agent/tool-call-parser';

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
  it('takes the first of several calls and ignores what follows the JSON object', () => {
    const parsed = parseToolCall('pdf.extract\n{"path":"a.pdf","pages":[1]} thanks<|assistant|>pdf.search\n{"query":"x"}', {
      toolNames,
      lenient: true,
    });
    expect(parsed).toEqual({ type: 'call', name: 'pdf.extract', args: { path: 'a.pdf', pages: [1] }, argumentsText: '{"path":"a.pdf","pages":[1]}' });
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

describe('parseModelJson', () => {
  it('accepts raw control characters inside strings and nothing else that JSON refuses', async () => {
    const { parseModelJson } = await import('../../src/agent/parse-json');
    expect(parseModelJson('{"a":"line\none\ttab","b":"q\\"\n"}')).toEqual({ a: 'line\none\ttab', b: 'q"\n' });
    expect(parseModelJson('{\n  "a": 1\n}')).toEqual({ a: 1 });
    expect(() => parseModelJson("{'a':1}")).toThrow();
    expect(parseToolCall('pdf.search\n{"query":"net\tsales"}', { toolNames })).toMatchObject({ type: 'call', args: { query: 'net\tsales' } });
  });
});
