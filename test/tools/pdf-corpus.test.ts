/**
 * The 12 real filings against poppler: same page count as `pdfinfo`, and per page our text holds at least 95% of
 * the words of `pdftotext -layout` (tokens: lowercase alphanumeric runs, compared as multisets).
 *
 * To keep the suite fast on 2 shared cores (all ~600 pages took ~17 s of CPU, over 60 s of wall time under load),
 * filings over 40 pages are checked on a representative subset: the first and last page and every third page,
 * which covers cover pages, prose, statements, notes and exhibits. Shorter filings are checked on every page.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPdf, type PdfDocument } from '../../src/tools/pdf/read-pdf';
import { corpusDir, corpusMissingMessage, corpusPresent } from '../support/pdf-corpus';

function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const popplerPresent = hasCommand('pdfinfo') && hasCommand('pdftotext');
if (!corpusPresent) console.warn(corpusMissingMessage);
else if (!popplerPresent) console.warn('poppler-utils (pdfinfo, pdftotext) is not installed; skipping the comparisons with poppler. Install it with `apt-get install -y poppler-utils`.');

const files = corpusPresent ? readdirSync(corpusDir).filter((name) => name.endsWith('.pdf')).sort() : [];

function pagesToCheck(pageCount: number): number[] | undefined {
  if (!(pageCount > 40)) return undefined;
  return Array.from({ length: pageCount }, (_, index) => index + 1).filter((page) => page === 1 || page === pageCount || page % 3 === 0);
}

function tokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/**
 * poppler drops the ligature glyphs the eBay and Costco fonts map to U+0000, printing "nancial" or "e ective", while
 * we recover "financial" and "effective": a word of ours holding f-ligature letters also stands for those pieces.
 */
function tokensWithPopplerLigatures(text: string): string[] {
  return tokens(text).flatMap((token) => {
    if (!/ff[il]?|f[il]/.test(token)) return [token];
    return [token, token.replace(/ff[il]?|f[il]/g, ''), ...token.split(/ff[il]?|f[il]/).filter((piece) => piece !== '')];
  });
}

/** Share of the reference tokens found in ours, counting repeats. */
function tokenRecall(ours: string, reference: string): number | undefined {
  const wanted = tokens(reference);
  if (wanted.length === 0) return undefined;
  const available = new Map<string, number>();
  for (const token of tokensWithPopplerLigatures(ours)) available.set(token, (available.get(token) ?? 0) + 1);
  let found = 0;
  for (const token of wanted) {
    const count = available.get(token) ?? 0;
    if (count > 0) {
      found++;
      available.set(token, count - 1);
    }
  }
  return found / wanted.length;
}

describe.skipIf(!corpusPresent || !popplerPresent)('readPdf on the shared filings, compared with poppler', () => {
  const documents = new Map<string, PdfDocument>();

  beforeAll(async () => {
    for (const file of files) {
      const bytes = readFileSync(resolve(corpusDir, file));
      const pageCount = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [resolve(corpusDir, file)]).toString())?.[1]);
      documents.set(file, await readPdf(bytes, { fileName: file, pages: pagesToCheck(pageCount) }));
    }
  });

  // Ligature glyphs the fonts map to U+0000 (counted by hand with `grep -c` on pdf-parse's raw text; poppler drops them):
  // all recovered through the word list, none left. No filing in the corpus splits a word over a line end: every
  // lower-case line-end hyphen in it is a real compound ("long-term", "co-branded"), so none is joined.
  const expectedHygiene: Record<string, { recoveredGlyphs: number; unrecoveredGlyphs: number; joinedHyphens: number }> = {
    'EBAY_2023Q1_EARNINGS.pdf': { recoveredGlyphs: 140, unrecoveredGlyphs: 0, joinedHyphens: 0 },
    'COSTCO_2023Q1_EARNINGS.pdf': { recoveredGlyphs: 23, unrecoveredGlyphs: 0, joinedHyphens: 0 },
  };

  it.each(files)('%s: no NUL left in the text, ligatures recovered as counted', (file) => {
    const document = documents.get(file)!;
    expect(document.textHygiene).toEqual(expectedHygiene[file] ?? { recoveredGlyphs: 0, unrecoveredGlyphs: 0, joinedHyphens: 0 });
    expect(document.pages.filter((page) => page.text.includes('\0')).map((page) => page.number)).toEqual([]);
    expect(document.warnings).toBeUndefined();
  });

  it('the eBay release reads "financial", "first" and "cash flow" where the font lost the ligature', () => {
    const text = documents.get('EBAY_2023Q1_EARNINGS.pdf')!.pages.map((page) => page.text).join('\n');
    expect(text).toContain('reported financial results for its first quarter');
    expect(text).toMatch(/free cash flow/i);
    expect(text).toContain('drop-off');
  });

  it('finds the 12 filings', () => {
    expect(files).toHaveLength(12);
  });

  it.each(files)('%s: page count equals pdfinfo and every page keeps >= 95% of pdftotext words', (file) => {
    const path = resolve(corpusDir, file);
    const document = documents.get(file)!;
    const pdfinfoPages = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [path]).toString())?.[1]);
    expect(document.info.pageCount).toBe(pdfinfoPages);
    const checked = pagesToCheck(pdfinfoPages) ?? Array.from({ length: pdfinfoPages }, (_, index) => index + 1);
    expect(document.pages.map((page) => page.number)).toEqual(checked);

    // One pdftotext call per file; it separates pages with form feeds.
    const reference = execFileSync('pdftotext', ['-layout', path, '-'], { maxBuffer: 256 * 1024 * 1024 }).toString().split('\f');
    const recalls: number[] = [];
    for (const page of document.pages) {
      const recall = tokenRecall(page.text, reference[page.number - 1] ?? '');
      if (recall === undefined) continue;
      recalls.push(recall);
      expect(recall, `${file} page ${page.number}: token recall against pdftotext -layout`).toBeGreaterThanOrEqual(0.95);
    }
    const mean = recalls.reduce((sum, value) => sum + value, 0) / recalls.length;
    console.log(`${file}: ${recalls.length} pages compared, token recall min ${Math.min(...recalls).toFixed(4)}, mean ${mean.toFixed(4)}`);
  });
});
