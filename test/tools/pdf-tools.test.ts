/**
 * pdf.extract and pdf.search called as tools, through a minimal FileAccess that serves the fixtures folder.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbortError, DocumentError } from '../../src/errors';
import { silentLogger } from '../../src/observability/logger';
import type { FileAccess, ToolContext } from '../../src/tools/tool';
import { PdfIndexCache } from '../../src/tools/pdf/pdf-index-cache';
import { createPdfTools, pdfTools } from '../../src/tools/pdf/pdf-tools';
import { repoRoot } from '../support/pdf-corpus';

const fixtures = resolve(repoRoot, 'test/fixtures');

function context(files: Record<string, Uint8Array> = {}): ToolContext & { reads: string[] } {
  const reads: string[] = [];
  const access: FileAccess = {
    async resolve(path) {
      return resolve(fixtures, path);
    },
    async readFile(path) {
      reads.push(path);
      return files[path] ?? new Uint8Array(await readFile(resolve(fixtures, path)));
    },
    async writeFile() {
      throw new Error('read-only in this test');
    },
  };
  return { signal: new AbortController().signal, logger: silentLogger(), files: access, reads };
}

function tool(name: string, tools = pdfTools) {
  const found = tools.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
}

describe('pdfTools', () => {
  it('holds pdf.extract and pdf.search with input and output schemas', () => {
    expect(pdfTools.map((candidate) => candidate.name)).toEqual(['pdf.extract', 'pdf.search', 'pdf.tables']);
    for (const candidate of pdfTools) {
      expect(candidate.output).toBeDefined();
      expect(candidate.description.length).toBeGreaterThan(20);
    }
    expect(tool('pdf.search').input.safeParse({ path: 'a.pdf', query: 'revenue' }).data).toEqual({ path: 'a.pdf', query: 'revenue', topK: 5 });
    expect(tool('pdf.search').input.safeParse({ path: 'a.pdf', query: '', topK: 5 }).success).toBe(false);
    expect(tool('pdf.extract').input.safeParse({ path: 'a.pdf', pages: [0] }).success).toBe(false);
  });

  it('pdf.extract reads pages and metadata through ctx.files, and its value matches its output schema', async () => {
    const extract = tool('pdf.extract');
    const ctx = context();
    const value = await extract.execute(extract.input.parse({ path: 'jnj-8k-2-pages.pdf', pages: [2] }), ctx);
    expect(ctx.reads).toEqual(['jnj-8k-2-pages.pdf']);
    expect(value.info.pageCount).toBe(2);
    expect(value.pages).toHaveLength(1);
    expect(value.pages[0].number).toBe(2);
    expect(value.pages[0].text).toMatch(/Kenvue/);
    expect(extract.output!.safeParse(value).success).toBe(true);
  });

  it('pdf.search ranks pages and caches the index by content hash', async () => {
    const [, search] = createPdfTools({ cacheEntries: 2 });
    const ctx = context();
    const args = search.input.parse({ path: 'jnj-8k-2-pages.pdf', query: 'How many Kenvue shares were exchanged?', topK: 2 });
    const first = await search.execute(args, ctx);
    expect(first.hits[0].page).toBe(2);
    expect(first.hits[0].text).toMatch(/1,533,830,450 shares/);
    expect(search.output!.safeParse(first).success).toBe(true);
    // The same bytes under another name reuse the cached index and give the same answer.
    const bytes = new Uint8Array(await readFile(resolve(fixtures, 'jnj-8k-2-pages.pdf')));
    const again = await search.execute({ ...args, path: 'copy.pdf' }, context({ 'copy.pdf': bytes }));
    expect(again).toEqual(first);
  });

  it('pdf.search: a cancelled call does not fail a concurrent one on the same file', async () => {
    const [, search] = createPdfTools();
    const cancelled = new AbortController();
    cancelled.abort();
    const args = { path: 'jnj-8k-2-pages.pdf', query: 'Kenvue exchange offer', topK: 1 };
    const [first, second] = await Promise.allSettled([
      search.execute(args, { ...context(), signal: cancelled.signal }),
      search.execute(args, context()),
    ]);
    expect(first.status === 'rejected' && first.reason).toBeInstanceOf(AbortError);
    expect(second.status === 'fulfilled' && second.value.hits[0].page).toBe(2);
  });

  it('both tools fail with a DocumentError naming the file for broken and encrypted input', async () => {
    const files = { 'empty.pdf': new Uint8Array(), 'notes.txt': new TextEncoder().encode('not a pdf') };
    for (const name of ['pdf.extract', 'pdf.search']) {
      const candidate = tool(name);
      for (const path of ['empty.pdf', 'notes.txt', 'encrypted-user-password.pdf']) {
        const args = candidate.input.parse({ path, query: 'revenue' });
        const error = await Promise.resolve(candidate.execute(args, context(files))).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error, `${name} on ${path}`).toBeInstanceOf(DocumentError);
        expect((error as DocumentError).message).toContain(`"${path}"`);
      }
    }
  });
});

describe('PdfIndexCache', () => {
  it('returns the same index for the same bytes, evicts the least recently used, and forgets failures', async () => {
    const sample = new Uint8Array(await readFile(resolve(fixtures, 'jnj-8k-2-pages.pdf')));
    const cache = new PdfIndexCache({ maxEntries: 1 });
    const first = await cache.get(sample);
    expect(await cache.get(sample.slice())).toBe(first);
    await expect(cache.get(new TextEncoder().encode('not a pdf'))).rejects.toBeInstanceOf(DocumentError);
    await Promise.resolve();
    expect(cache.size).toBe(0);
    expect(await cache.get(sample)).not.toBe(first);
    expect(cache.size).toBe(1);
    expect(() => new PdfIndexCache({ maxEntries: 0 })).toThrow(/`maxEntries` to be an integer >= 1, got 0/);
  });
});
