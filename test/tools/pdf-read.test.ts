import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { AbortError, DocumentError } from '../../src/errors';
import { pdfjsLocalAssets } from '../../src/tools/pdf/pdfjs-local-assets';
import { readPdf } from '../../src/tools/pdf/read-pdf';
import { corpusDir, corpusPresent, repoRoot } from '../support/pdf-corpus';

const fixtures = resolve(repoRoot, 'test/fixtures');
// Two pages of a public SEC 8-K (Johnson & Johnson, Kenvue split-off), extracted with qpdf --pages.
const sample = new Uint8Array(readFileSync(resolve(fixtures, 'jnj-8k-2-pages.pdf')));
// The same two pages encrypted once with `qpdf --encrypt user-secret owner-secret 256`.
const encrypted = new Uint8Array(readFileSync(resolve(fixtures, 'encrypted-user-password.pdf')));

async function documentError(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

describe('readPdf', () => {
  it('reads text per page with 1-based numbers and metadata', async () => {
    const document = await readPdf(sample, { fileName: 'jnj.pdf' });
    expect(document.info.pageCount).toBe(2);
    expect(document.pages.map((page) => page.number)).toEqual([1, 2]);
    expect(document.pages[0].text).toMatch(/FORM 8-K/);
    expect(document.pages[1].text).toMatch(/1,533,830,450 shares of common stock of Kenvue/);
    expect(document.info.title).toMatch(/Form 8-K for Johnson/);
    expect(document.info.creationDate).toMatch(/^2023-08-25T/);
    expect(document.tables).toBeUndefined();
  });

  it('never uses the network while reading (pdf.js data files come from local folders)', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('network is off in this test'));
    try {
      const document = await readPdf(sample);
      expect(document.pages[1].text).toMatch(/Kenvue/);
      expect(fetchSpy).not.toHaveBeenCalled();
      const assets = pdfjsLocalAssets();
      for (const folder of [assets.cMapUrl, assets.standardFontDataUrl, assets.wasmUrl]) {
        expect(folder).toMatch(/pdfjs-dist\/\w+\/$/);
        expect(existsSync(folder!)).toBe(true);
      }
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('leaves the caller bytes usable', async () => {
    const bytes = sample.slice();
    await readPdf(bytes);
    expect(bytes.byteLength).toBe(sample.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(sample))).toBe(true);
  });

  it('reads a subset of pages and reports table detection when asked', async () => {
    const document = await readPdf(sample, { pages: [2, 2], tables: true });
    expect(document.pages.map((page) => page.number)).toEqual([2]);
    expect(document.info.pageCount).toBe(2);
    expect(Array.isArray(document.tables)).toBe(true);
  });

  it('refuses pages outside the document', async () => {
    const error = await documentError(readPdf(sample, { fileName: 'jnj.pdf', pages: [3] }));
    expect(error.message).toMatch(/pages 3 of "jnj\.pdf": it has 2 pages/);
  });

  it('refuses documents over the page and byte limits', async () => {
    const pages = await documentError(readPdf(sample, { fileName: 'big.pdf', maxPages: 1 }));
    expect(pages.message).toMatch(/"big\.pdf": it has 2 pages, over the limit of 1/);
    expect(pages.details.cause).toBe('too-many-pages');
    const bytes = await documentError(readPdf(sample, { fileName: 'big.pdf', maxBytes: 1000 }));
    expect(bytes.message).toMatch(/"big\.pdf": it is \d+ bytes, over the limit of 1000 bytes/);
    expect(bytes.details.cause).toBe('too-many-bytes');
  });

  it('rejects zero bytes', async () => {
    const error = await documentError(readPdf(new Uint8Array(), { fileName: 'empty.pdf' }));
    expect(error.message).toMatch(/"empty\.pdf": the file is empty \(zero bytes\)/);
    expect(error.details).toMatchObject({ file: 'empty.pdf', cause: 'empty' });
  });

  it('rejects a text file and random bytes as not a PDF', async () => {
    const text = new TextEncoder().encode('Quarterly results\nRevenue rose 8 percent.\n');
    expect((await documentError(readPdf(text, { fileName: 'notes.txt' }))).message).toMatch(/"notes\.txt": it is not a PDF/);
    let seed = 7;
    const garbage = new Uint8Array(64 * 1024).map(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
    const error = await documentError(readPdf(garbage, { fileName: 'garbage.pdf' }));
    expect(error.details.cause).toBe('not-a-pdf');
  });

  it('rejects garbage behind a PDF header as damaged', async () => {
    const garbage = new Uint8Array(8 * 1024).map((_, index) => (index * 7919) % 251);
    garbage.set(new TextEncoder().encode('%PDF-1.7\n'));
    const error = await documentError(readPdf(garbage, { fileName: 'fake.pdf' }));
    expect(error.message).toMatch(/"fake\.pdf"/);
    expect(['truncated', 'damaged']).toContain(error.details.cause);
  });

  it.each([0.1, 0.5, 0.9, 0.99])('rejects the sample truncated to %s of its bytes', async (share) => {
    const truncated = sample.slice(0, Math.floor(sample.length * share));
    const error = await documentError(readPdf(truncated, { fileName: 'cut.pdf', timeoutMs: 20_000 }));
    expect(error.message).toMatch(/Cannot read "cut\.pdf": it looks truncated/);
    expect(error.details.cause).toBe('truncated');
  });

  it('rejects an encrypted PDF that needs a password', async () => {
    const error = await documentError(readPdf(encrypted, { fileName: 'secret.pdf' }));
    expect(error.message).toMatch(/"secret\.pdf": it is encrypted and needs a password/);
    expect(error.details.cause).toBe('encrypted');
  });

  it('honours an aborted signal and validates its options', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(readPdf(sample, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    await expect(readPdf(sample, { maxPages: 0 })).rejects.toThrow(/`maxPages` to be an integer >= 1, got 0/);
    await expect(readPdf(sample, { pages: [1.5] })).rejects.toThrow(/`pages` to be an integer >= 1, got 1\.5/);
  });
});

describe.skipIf(!corpusPresent)('readPdf deadlines on a long filing', () => {
  const longFiling = corpusPresent ? new Uint8Array(readFileSync(resolve(corpusDir, 'COCACOLA_2020_10K.pdf'))) : new Uint8Array();

  it('stops a 194-page read at its deadline with a DocumentError', async () => {
    const error = await documentError(readPdf(longFiling, { fileName: 'ko.pdf', timeoutMs: 100 }));
    expect(error.message).toMatch(/Reading "ko\.pdf" took longer than 100 ms and was stopped/);
    expect(error.details.cause).toBe('timeout');
  });

  it('stops a 194-page read when its signal aborts midway', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(readPdf(longFiling, { fileName: 'ko.pdf', signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
  });
});
