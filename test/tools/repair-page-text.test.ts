/**
 * Text hygiene on page texts: NUL ligature glyphs (as pdf.js returns them for the eBay and Costco releases, whose Type 3
 * fonts map ligature codes to <0000>) and line-end hyphenation. The corpus figures are in pdf-corpus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { repairPageText } from '../../src/tools/pdf/repair-page-text';

const page = (text: string, number = 1) => ({ number, text });

describe('repairPageText', () => {
  it('recovers each NUL as the one f-ligature that makes a word, keeping case', () => {
    const { pages, report } = repairPageText([page('reported \0nancial results for its \0rst quarter; E\0ective tari\0s and a drop-o\0 \0ow')]);
    expect(pages[0]!.text).toBe('reported financial results for its first quarter; Effective tariffs and a drop-off flow');
    expect(report).toEqual({ recoveredGlyphs: 6, unrecoveredGlyphs: 0, joinedHyphens: 0 });
    expect(pages[0]!.unrecoveredGlyphs).toBeUndefined();
  });

  it('recovers two NULs in one word and upper-case words', () => {
    const { pages } = repairPageText([page('e\0\0ective and \0NANCIAL')]);
    // "e\0\0ective" has no reading with two ligatures, so it stays unknown; upper case follows the word.
    expect(pages[0]!.text).toBe('e\uFFFD\uFFFDective and FINANCIAL');
  });

  it('counts and marks what no ligature explains, never keeps a NUL', () => {
    const { pages, report } = repairPageText([page('ok'), page('x\0q\0z and 12\0', 2)]);
    expect(pages[1]!.text).toBe('x\uFFFDq\uFFFDz and 12\uFFFD');
    expect(pages[1]!.unrecoveredGlyphs).toBe(3);
    expect(report).toEqual({ recoveredGlyphs: 0, unrecoveredGlyphs: 3, joinedHyphens: 0 });
    expect(pages.every((item) => !item.text.includes('\0'))).toBe(true);
  });

  it('joins a word split over a line end and keeps the rest of the line', () => {
    const { pages, report } = repairPageText([page('a compre-\nhensive review of depre-\n  ciation\nnext line')]);
    expect(pages[0]!.text).toBe('a comprehensive\n review of depreciation\n  \nnext line');
    expect(report.joinedHyphens).toBe(2);
  });

  it('keeps the hyphen of real compounds at a line end', () => {
    const text = 'our long-\nterm debt grew year-over-\nyear; co-\nbranded cards and e-\ncommerce sales; non-\nGAAP';
    const { pages, report } = repairPageText([page(text)]);
    expect(pages[0]!.text).toBe(text);
    expect(report.joinedHyphens).toBe(0);
  });

  it('keeps a hyphen the document prints on one line elsewhere, joins one it prints joined', () => {
    const { pages } = repairPageText([page('the pre-tax and the pre-\ntax'), page('a data-\nbase and a database', 2)]);
    expect(pages[0]!.text).toBe('the pre-tax and the pre-\ntax');
    expect(pages[1]!.text).toBe('a database\n and a database');
  });
});
