import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentTools } from '../../src/tools/documents/document-tools';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel } from '../support/scripted-model';

const corpus = resolve(process.cwd(), '../shared/corpus/financial');
const present = existsSync(corpus);
if (!present) console.warn(`document-summarize-pdf: ${corpus} is absent, skipping the real-PDF tests`);

describe.skipIf(!present)('document.summarize on real filings', () => {
  it('summarises a PDF read through the sandbox, page by page, within a small context', async () => {
    const budget = 64;
    const model = new ScriptedModel([], { contextLength: 2048, fallback: (call, index) => (call.options.schema ? '{"company": "Johnson & Johnson"}' : `partial ${index}`) });
    const registry = new ToolRegistry(documentTools, { roots: [corpus], model });
    const result = await registry.call('document.summarize', {
      path: 'JOHNSON_JOHNSON_2023_8K_dated-2023-08-23.pdf',
      focus: 'the transaction',
      maxSummaryTokens: budget,
      output: { type: 'object', properties: { company: { type: 'string' } }, required: ['company'] },
    });
    if (!result.ok) throw new Error(result.error.message);
    const value = result.value as { value: unknown; pageCount: number; chunkCount: number; calls: { map: number; reduce: number } };
    expect(value.value).toEqual({ company: 'Johnson & Johnson' });
    expect(value.pageCount).toBeGreaterThan(1);
    expect(value.calls.map).toBeGreaterThan(1);
    expect(value.calls.map + value.calls.reduce).toBe(model.calls.length);
    for (const call of model.calls) {
      expect(model.tokenize(call.prompt).length + budget).toBeLessThanOrEqual(2048);
      // The system block ends where the user block starts: no document text before it.
      expect(call.prompt.slice(0, call.prompt.indexOf('<|user|>'))).not.toMatch(/Johnson|\[page \d+\]/);
    }
    expect(model.calls.some((call) => call.prompt.includes('[page 1]'))).toBe(true);
  });

  it('returns a truncated PDF as a DOCUMENT error and a missing file as a failure naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoglm-summarize-pdf-'));
    try {
      const bytes = readFileSync(join(corpus, 'JOHNSON_JOHNSON_2023_8K_dated-2023-08-23.pdf'));
      writeFileSync(join(dir, 'truncated.pdf'), bytes.subarray(0, Math.floor(bytes.length / 3)));
      const registry = new ToolRegistry(documentTools, { roots: [dir], model: new ScriptedModel([], { fallback: 'x' }) });
      expect(await registry.call('document.summarize', { path: 'truncated.pdf' })).toMatchObject({
        ok: false,
        error: { code: 'DOCUMENT', message: expect.stringContaining('truncated.pdf') },
      });
      expect(await registry.call('document.summarize', { path: 'missing.pdf' })).toMatchObject({
        ok: false,
        error: { code: 'TOOL_EXECUTION', message: expect.stringContaining('missing.pdf') },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
