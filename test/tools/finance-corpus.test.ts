/**
 * finance.keyFigures on the real filings of the shared corpus. Expected values were read by hand from
 * `pdftotext -layout` (see test/fixtures/finance/expected-key-figures.json). Each PDF is parsed once.
 * All 12 filings run (the bar: the key figures pass on every filing); the three largest 10-Ks (Coca-Cola,
 * 194 pages; Microsoft; Netflix 2016) take ~14 s of it. `npx tsx bench/finance-key-figures.bench.ts` prints the table.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractKeyFigures, type KeyFigures } from '../../src/tools/finance/extract-key-figures';
import type { SegmentRevenue } from '../../src/tools/finance/extract-segment-revenue';
import type { KeyFigureName } from '../../src/tools/finance/line-item-synonyms';
import { readPdf } from '../../src/tools/pdf/read-pdf';

interface Expected {
  slow?: boolean;
  currency: string | null;
  period?: string;
  figures: Partial<Record<KeyFigureName, { value: number; unit: string; page: number; label: string; period?: string; derived?: true }>>;
  absent: KeyFigureName[];
  /** Every segment in the filing's order, or null: the filing prints none (or none the reader reads). */
  segmentRevenue: SegmentRevenue[] | null;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.resolve(repoRoot, '../shared/corpus/financial');
const expectations = JSON.parse(
  readFileSync(path.join(repoRoot, 'test/fixtures/finance/expected-key-figures.json'), 'utf8'),
) as Record<string, Expected | string>;
const filings = Object.entries(expectations).filter((entry): entry is [string, Expected] => typeof entry[1] === 'object');
const corpusPresent = existsSync(corpus);
if (!corpusPresent) console.warn(`finance corpus tests skipped: ${corpus} is absent (the shared filings are not on this machine).`);

describe.skipIf(!corpusPresent)('finance.keyFigures on the shared corpus', () => {
  const results = new Map<string, KeyFigures>();

  beforeAll(async () => {
    for (const [file] of filings) {
      const bytes = new Uint8Array(readFileSync(path.join(corpus, file)));
      const document = await readPdf(bytes, { fileName: file });
      results.set(file, extractKeyFigures(document.pages));
    }
  });

  it('pins at least 6 filings with revenue, net income and a third figure', () => {
    const pinned = filings.filter(([, expected]) => {
      const names = Object.keys(expected.figures);
      return names.includes('revenue') && names.includes('netIncome') && names.length >= 3;
    });
    expect(pinned.length).toBeGreaterThanOrEqual(6);
  });

  it.each(filings)('%s: value, unit, page and label of each figure', (file, expected) => {
    const result = results.get(file)!;
    for (const [name, figure] of Object.entries(expected.figures)) {
      expect({ name, ...result.figures[name as KeyFigureName] }).toMatchObject({ name, ...figure });
    }
    for (const name of expected.absent) expect(result.figures[name], `${file} should have no ${name}`).toBeUndefined();
    // Nothing found beyond what is pinned: every figure is either expected or asserted absent.
    expect(Object.keys(result.figures).sort()).toEqual(Object.keys(expected.figures).sort());
    expect(result.currency).toBe(expected.currency);
    expect(result.period).toBe(expected.period);
  });

  it.each(filings)('%s: segment revenue, or none', (file, expected) => {
    expect(expected.segmentRevenue, `${file} must pin segmentRevenue (null when absent)`).not.toBeUndefined();
    const result = results.get(file)!;
    if (expected.segmentRevenue === null) expect(result.segmentRevenue).toBeUndefined();
    else expect(result.segmentRevenue).toEqual(expected.segmentRevenue);
  });

  it('reads segment revenue that adds up to the filing revenue, for its period', () => {
    const read = filings.filter(([file]) => results.get(file)!.segmentRevenue);
    expect(read.map(([file]) => file).sort()).toEqual([
      'AMAZON_2020_10K.pdf',
      'APPLE_2023Q3_10Q.pdf',
      'COCACOLA_2020_10K.pdf',
      'INTEL_2022Q4_EARNINGS.pdf',
      'MICROSOFT_2022_10K.pdf',
      'NETFLIX_2016_10K.pdf',
      'PFIZER_2023Q2_EARNINGS.pdf',
    ]);
    for (const [file] of read) {
      const { segmentRevenue, figures, period } = results.get(file)!;
      const sum = segmentRevenue!.reduce((total, segment) => total + segment.value, 0);
      // Intel's segments add up to its "Total operating segment revenue" (p11), before intersegment eliminations;
      // Coca-Cola's (p129) to Consolidated 33,014 less Corporate 46 plus Eliminations 1,043.
      const segmentTotal: Record<string, number> = { 'INTEL_2022Q4_EARNINGS.pdf': 14151, 'COCACOLA_2020_10K.pdf': 33014 - 46 + 1043 };
      expect(sum, file).toBe(segmentTotal[file] ?? figures.revenue!.value);
      for (const segment of segmentRevenue!) expect(segment.period, file).toBe(period);
    }
  });

  it('derives free cash flow only from the same cash flow column, and marks it', () => {
    for (const [file] of filings) {
      const { figures } = results.get(file)!;
      if (!figures.freeCashFlow?.derived) continue;
      expect(figures.freeCashFlow.value, file).toBeCloseTo(figures.operatingCashFlow!.value - Math.abs(figures.capitalExpenditures!.value), 6);
      expect(figures.freeCashFlow.period, file).toBe(figures.capitalExpenditures!.period);
      expect(figures.freeCashFlow.page, file).toBe(figures.capitalExpenditures!.page);
    }
    const apple = results.get('APPLE_2023Q3_10Q.pdf')!.figures;
    expect(apple.freeCashFlow).toMatchObject({ value: 80149, derived: true, period: 'Nine Months Ended July 1, 2023' });
  });

  it("reads Amazon's total net sales of $386,064 million from the 2020 column, not the first", () => {
    const amazon = results.get('AMAZON_2020_10K.pdf')!;
    expect(amazon.figures.revenue).toMatchObject({ value: 386064, unit: 'millions', page: 39, period: 'Year Ended December 31, 2020' });
  });
});
