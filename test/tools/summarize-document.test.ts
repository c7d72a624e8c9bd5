import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GenerationError } from '../../src/errors';
import type { ChatMessage, GenerateOptions, GenerateResult, ModelInput } from '../../src/models/language-model';
import type { DocumentPage } from '../../src/tools/documents/chunk-document';
import { documentTools } from '../../src/tools/documents/document-tools';
import { summarizeDocument } from '../../src/tools/documents/summarize-document';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel, type ScriptedReply } from '../support/scripted-model';

/** A ScriptedModel that also keeps the chat messages of each call. */
class RecordingModel extends ScriptedModel {
  readonly inputs: Array<{ messages: ChatMessage[]; options: GenerateOptions; promptTokens: number }> = [];
  override async generate(input: ModelInput, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.inputs.push({ messages: input as ChatMessage[], options, promptTokens: this.countTokens(input) });
    return super.generate(input, options);
  }
}

const kind = (messages: ChatMessage[]) => {
  const system = messages[0].content;
  return system.startsWith('You summarise one excerpt') ? 'map' : system.startsWith('You summarise documents') ? 'single' : system.includes('final summary') ? 'final' : 'merge';
};

/** Pages whose text is unique and recognisable: `<p7 s3 ...>` sentences. */
function makePages(count: number, sentencesPerPage: number): DocumentPage[] {
  return Array.from({ length: count }, (_, index) => ({
    number: index + 1,
    text: Array.from({ length: sentencesPerPage }, (_, s) => `Page ${index + 1} fact ${s}: revenue rose ${s + index}%.`)
      .reduce((text, sentence, s) => text + (s % 3 === 0 && s > 0 ? '\n\n' : ' ') + sentence, '')
      .trim(),
  }));
}

/** Checks every call against the budget and the system-prompt rule; returns the calls by kind. */
function checkCalls(model: RecordingModel, pages: DocumentPage[], budget: number) {
  for (const call of model.inputs) {
    expect(call.promptTokens + budget).toBeLessThanOrEqual(model.info.contextLength);
    expect(call.options.maxNewTokens).toBe(budget);
    expect(call.messages.map((message) => message.role)).toEqual(['system', 'user']);
    for (const page of pages) {
      for (const sentence of page.text.split(/(?<=\.)\s+/).slice(0, 2)) expect(call.messages[0].content).not.toContain(sentence);
    }
    expect(call.messages[0].content).not.toMatch(/Page \d+ fact/);
  }
  return {
    map: model.inputs.filter((call) => kind(call.messages) === 'map'),
    merge: model.inputs.filter((call) => kind(call.messages) === 'merge'),
    final: model.inputs.filter((call) => kind(call.messages) === 'final'),
    single: model.inputs.filter((call) => kind(call.messages) === 'single'),
  };
}

describe('summarizeDocument', () => {
  it('makes one call when the document fits', async () => {
    const model = new RecordingModel(['A short summary.']);
    const pages = makePages(2, 3);
    const summary = await summarizeDocument(pages, { model, focus: 'revenue' });
    expect(summary).toEqual({ summary: 'A short summary.', calls: { map: 1, reduce: 0 }, chunkCount: 2, pageCount: 2 });
    const calls = checkCalls(model, pages, 512);
    expect(calls.single).toHaveLength(1);
    expect(calls.single[0].messages[1].content).toContain('Focus on: revenue');
    expect(calls.single[0].messages[1].content).toContain(pages[1].text);
    expect(calls.single[0].options.schema).toBeUndefined();
  });

  it('maps excerpts that fit the budget, packs them greedily, and merges once when the summaries fit', async () => {
    const model = new RecordingModel([], { contextLength: 1200, fallback: (_call, index) => `summary ${index}` });
    const pages = makePages(12, 12);
    const budget = 80;
    const summary = await summarizeDocument(pages, { model, maxSummaryTokens: budget });
    const calls = checkCalls(model, pages, budget);
    expect(summary.calls).toEqual({ map: calls.map.length, reduce: 1 });
    // Each page (~430 tokens) fits a map call (about 1200 - 80 - 330 of prompt), two pages do not: one call per page.
    expect(calls.map.length).toBe(12);
    expect(calls.final).toHaveLength(1);
    expect(model.inputs.at(-1)).toBe(calls.final[0]);
    // Every page's text reaches exactly the map calls, in order, each sentence once.
    const mapped = calls.map.map((call) => call.messages[1].content).join('\n');
    for (const page of pages) for (const sentence of page.text.split(/(?<=\.)\s+/)) expect(mapped.split(sentence)).toHaveLength(2);
    // Greedy: the next call's first excerpt would not have fitted into the previous call.
    for (let index = 1; index < calls.map.length; index += 1) {
      const firstExcerpt = calls.map[index].messages[1].content.match(/<document>\n([\s\S]*?)(?:\n\n\[page|\n<\/document>)/)![1];
      expect(calls.map[index - 1].promptTokens + firstExcerpt.length + 2 + budget).toBeGreaterThan(model.info.contextLength);
    }
    // The final call merges every map summary, labelled with its pages.
    const final = calls.final[0].messages[1].content;
    for (let index = 0; index < calls.map.length; index += 1) expect(final).toContain(`summary ${index}`);
    expect(final).toMatch(/Summary of pages? 1[–:]/);
    expect(summary.summary).toBe(`summary ${calls.map.length}`);
  });

  it('merges recursively when the partial summaries do not fit one call', async () => {
    const budget = 100;
    // Each reply uses the whole budget, so only a few summaries fit a merge call.
    const model = new RecordingModel([], { contextLength: 1100, fallback: (_call, index) => `[${index}]`.padEnd(budget, '.') });
    const pages = makePages(40, 12);
    const summary = await summarizeDocument(pages, { model, maxSummaryTokens: budget });
    const calls = checkCalls(model, pages, budget);
    expect(calls.merge.length).toBeGreaterThan(1);
    expect(summary.calls).toEqual({ map: calls.map.length, reduce: calls.merge.length + 1 });
    expect(calls.final).toHaveLength(1);
    expect(model.inputs.at(-1)).toBe(calls.final[0]);
    for (const merge of calls.merge) expect(merge.messages[1].content.match(/Summary of page/g)!.length).toBeGreaterThanOrEqual(2);
    // Provenance survives the merges: the final labels cover pages 1..40 in order, without gaps.
    const ranges = [...calls.final[0].messages[1].content.matchAll(/Summary of pages? (\d+)(?:–(\d+))?:/g)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])]);
    expect(ranges[0][0]).toBe(1);
    expect(ranges.at(-1)![1]).toBe(40);
    for (let index = 1; index < ranges.length; index += 1) expect(ranges[index][0]).toBeGreaterThanOrEqual(ranges[index - 1][1]);
  });

  it('passes `output` as the schema of the final call only and parses the JSON (JSON Schema and zod)', async () => {
    const schema = { type: 'object', properties: { revenueGrowth: { type: 'number' }, risks: { type: 'array', items: { type: 'string' } } }, required: ['revenueGrowth', 'risks'] };
    const model = new RecordingModel([], {
      contextLength: 1200,
      fallback: (call, index) => (call.options.schema ? '{"revenueGrowth": 0.12, "risks": ["fx"]}' : `summary ${index}`),
    });
    const pages = makePages(8, 12);
    const summary = await summarizeDocument(pages, { model, maxSummaryTokens: 80, output: schema });
    expect(summary.value).toEqual({ revenueGrowth: 0.12, risks: ['fx'] });
    const calls = checkCalls(model, pages, 80);
    expect(model.inputs.filter((call) => call.options.schema !== undefined)).toEqual([calls.final[0]]);
    expect(calls.final[0].options.schema).toBe(schema);
    expect(calls.final[0].messages[1].content).toContain('"revenueGrowth"');

    const zodModel = new RecordingModel(['```json\n{"growth": 3}\n```']);
    const typed = await summarizeDocument(makePages(1, 2), { model: zodModel, output: z.object({ growth: z.number() }) });
    expect(typed.value).toEqual({ growth: 3 });
  });

  it('refuses JSON that is invalid or does not match the schema', async () => {
    const schema = { type: 'object', properties: { growth: { type: 'number' } }, required: ['growth'] };
    await expect(summarizeDocument(makePages(1, 2), { model: new RecordingModel(['not json']), output: schema })).rejects.toThrow(/not valid JSON/);
    await expect(summarizeDocument(makePages(1, 2), { model: new RecordingModel(['{"growth": "high"}']), output: schema })).rejects.toThrow(
      /growth: .*expected number/,
    );
  });

  it('refuses a context too small for the budget, and an empty document', async () => {
    await expect(summarizeDocument(makePages(3, 3), { model: new RecordingModel([], { contextLength: 600 }), maxSummaryTokens: 200 })).rejects.toBeInstanceOf(
      GenerationError,
    );
    await expect(summarizeDocument([{ number: 1, text: '  ' }], { model: new RecordingModel([]) })).rejects.toThrow(/no text/);
  });

  it('stops with ABORT when the signal is aborted between calls', async () => {
    const controller = new AbortController();
    const replies: ScriptedReply[] = [() => (controller.abort(), 'first')];
    const model = new RecordingModel(replies, { contextLength: 1200, fallback: 'more' });
    await expect(summarizeDocument(makePages(12, 12), { model, maxSummaryTokens: 80, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORT' });
    expect(model.inputs.length).toBeLessThanOrEqual(2);
  });
});

describe('document.summarize tool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoglm-summarize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summarises text and files in the sandbox, returning failures as values', async () => {
    writeFileSync(join(dir, 'report.txt'), 'Net sales rose 5%.\fCapital expenditure was $2 billion.');
    writeFileSync(join(dir, 'blob.bin'), new Uint8Array([0xff, 0xfe, 0x00, 0x01]));
    const model = new RecordingModel([], { fallback: (call) => (call.options.schema ? '{"capex": 2}' : 'Sales up, capex $2B.') });
    const registry = new ToolRegistry(documentTools, { roots: [dir], model });
    expect(await registry.call('document.summarize', { text: 'Revenue grew.' })).toEqual({
      ok: true,
      value: { summary: 'Sales up, capex $2B.', pageCount: 1, chunkCount: 1, calls: { map: 1, reduce: 0 } },
    });
    const fromFile = await registry.call('document.summarize', { path: 'report.txt', output: { type: 'object', properties: { capex: { type: 'number' } } } });
    expect(fromFile).toMatchObject({ ok: true, value: { value: { capex: 2 }, pageCount: 2 } });
    expect(model.inputs.at(-1)!.messages[1].content).toContain('[page 2]\nCapital expenditure was $2 billion.');
    expect(await registry.call('document.summarize', { path: 'blob.bin' })).toMatchObject({ ok: false, error: { code: 'DOCUMENT' } });
    expect(await registry.call('document.summarize', { path: '../elsewhere.txt' })).toMatchObject({ ok: false, error: { code: 'PATH_OUTSIDE_SANDBOX' } });
    expect(await registry.call('document.summarize', { text: 'x', path: 'report.txt' })).toMatchObject({ ok: false, error: { code: 'TOOL_INPUT' } });
    expect(await new ToolRegistry(documentTools).call('document.summarize', { text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'TOOL_EXECUTION', message: expect.stringMatching(/needs a language model/) },
    });
  });
});
