/**
 * Segment revenue on small page texts laid out as pdf-parse prints the segment tables of the corpus (tab-separated
 * cells): a revenue block (Microsoft's note 19), segment blocks (Amazon's note 10), and the tables it must not read.
 */
import { describe, expect, it } from 'vitest';
import { extractKeyFigures } from '../../src/tools/finance/extract-key-figures';
import { keyFiguresOutputSchema, keyFiguresTool } from '../../src/tools/finance/key-figures-tool';
import { silentLogger } from '../../src/observability/logger';
import type { ToolContext } from '../../src/tools/tool';
import { smallIncomeStatement } from '../fixtures/finance/small-income-statement';

const income = smallIncomeStatement;

const revenueBlock = (northAmerica: string, intro = 'Segment revenue and operating income were as follows during the periods presented:') =>
  [
    'NOTE 9 — SEGMENT INFORMATION',
    intro,
    '(In millions)',
    'Year Ended December 31, \t2023 \t2022',
    'Revenue',
    `North America \t$ \t${northAmerica} $ \t500`,
    'Rest of World \t420 \t460',
    'Total \t$ \t1,020 $ \t960',
    'Operating Income',
    'North America \t$ \t90 $ \t80',
    'Rest of World \t40 \t40',
    'Total \t$ \t130 $ \t120',
  ].join('\n');

const segmentBlocks = [
  'Information on reportable segments is as follows (in millions):',
  'Year Ended December 31,',
  '2022 \t2023',
  'Retail',
  'Net sales \t$ \t700 \t$ \t800',
  'Operating income \t$ \t60 \t$ \t70',
  'Cloud',
  'Net sales \t$ \t260 \t$ \t220',
  'Operating income \t$ \t60 \t$ \t60',
].join('\n');

const pages = (...texts: string[]) => texts.map((text, index) => ({ number: index + 1, text }));

describe('segment revenue', () => {
  it('reads a revenue block for the current period, checked against its total', () => {
    const result = extractKeyFigures(pages(income, revenueBlock('600')));
    expect(result.segmentRevenue).toEqual([
      { segment: 'North America', value: 600, unit: 'millions', page: 2, period: 'Year Ended December 31, 2023', label: 'North America' },
      { segment: 'Rest of World', value: 420, unit: 'millions', page: 2, period: 'Year Ended December 31, 2023', label: 'Rest of World' },
    ]);
  });

  it('reads segment blocks from the latest year column, checked against the filing revenue when no total is printed', () => {
    const result = extractKeyFigures(pages(income, segmentBlocks));
    expect(result.segmentRevenue).toEqual([
      { segment: 'Retail', value: 800, unit: 'millions', page: 2, period: 'Year Ended December 31, 2023', label: 'Retail: Net sales' },
      { segment: 'Cloud', value: 220, unit: 'millions', page: 2, period: 'Year Ended December 31, 2023', label: 'Cloud: Net sales' },
    ]);
  });

  it('reads segment columns named in a sentence of the filing, in their order', () => {
    const note = [
      'The Company has three reportable segments: Domestic streaming, International streaming and Domestic DVD.',
      'As of/Year ended December 31, 2016',
      'Domestic',
      'Streaming',
      'International',
      'Streaming',
      'Domestic',
      'DVD \tConsolidated',
      '(in thousands)',
      'Total memberships at end of period (1) \t49,431 \t44,365 \t4,114 \t—',
      'Revenues \t$ \t5,077,307 \t$ \t3,211,095 \t$ \t542,267 \t$ \t8,830,669',
    ].join('\n');
    const read = extractKeyFigures(pages(note)).segmentRevenue;
    expect(read?.map(({ segment, value, unit, period }) => [segment, value, unit, period])).toEqual([
      ['Domestic streaming', 5077307, 'thousands', 'Year ended December 31, 2016'],
      ['International streaming', 3211095, 'thousands', 'Year ended December 31, 2016'],
      ['Domestic DVD', 542267, 'thousands', 'Year ended December 31, 2016'],
    ]);
    // Columns in another order than the sentence names them are not read.
    expect(extractKeyFigures(pages(note.replace('Domestic\nDVD', 'Other\nDVD'))).segmentRevenue).toBeUndefined();
  });

  it('reads segment columns with reconciling Corporate and Eliminations columns, from each segment\'s total row', () => {
    // Laid out as pdf-parse prints Coca-Cola's 2020 10-K note 19 (p129), shortened to three segments.
    const note = (eliminations: string) =>
      [
        'Our organizational structure consists of the following operating segments: Europe, Middle East and Africa; Latin America and North America.',
        "Information about our Company's operations by operating segment and Corporate as of and for the years ended December 31, 2020 and 2019 is as follows (in millions):",
        'Europe,',
        'Middle East & Africa',
        'Latin',
        'America',
        'North',
        'America \tCorporate \tEliminations \tConsolidated',
        '2020',
        'Net operating revenues:',
        'Third party \t$ \t5,534 $ 3,499 $ 11,473 \t$ \t46 \t$ \t— \t$ \t20,552',
        `Intersegment \t523 \t— \t4 \t— \t${eliminations} \t—`,
        `Total net operating revenues \t6,057 \t3,499 \t11,477 \t46 \t${eliminations} \t20,552`,
        'Operating income (loss) \t3,313 \t2,116 \t2,471 \t(1,221) \t— \t6,679',
      ].join('\n');
    expect(extractKeyFigures(pages(note('(527)'))).segmentRevenue?.map(({ segment, value, label }) => [segment, value, label])).toEqual([
      ['Europe, Middle East and Africa', 6057, 'Europe, Middle East and Africa: Total net operating revenues'],
      ['Latin America', 3499, 'Latin America: Total net operating revenues'],
      ['North America', 11477, 'North America: Total net operating revenues'],
    ]);
    // Columns that no longer add up to Consolidated (eliminations misread) are not read.
    expect(extractKeyFigures(pages(note('(537)'))).segmentRevenue).toBeUndefined();
  });

  it('reads a segment printed above its own sub-lines, its name wrapped, only when named as a segment and adding up', () => {
    // Laid out as pdf-parse prints Pfizer's Q2 2023 release, p3 ("REVENUES") and footnote (b) of p29.
    const table = (oncology: string) =>
      [
        'REVENUES',
        '($ in millions) Second-Quarter Six Months',
        '2023 2022 % Change 2023 2022 % Change',
        'Total Oper. Total Oper.',
        'Global Biopharmaceuticals',
        'Business (Biopharma)(6) $ 12,418 $ 27,425 (55%) (54%) $ 30,389 $ 52,748 (42%) (40%)',
        'Primary Care(6) 5,810 20,979 (72%) (72%) 17,315 39,830 (57%) (55%)',
        'Specialty Care(6) 3,653 3,358 9% 12% 7,264 6,863 6% 10%',
        `Oncology(6) ${oncology} 3,088 (4%) (3%) 5,811 6,055 (4%) (2%)`,
        'Business Innovation $ 316 $ 317 — — $ 626 $ 655 (4%) (3%)',
        'TOTAL REVENUES $ 12,734 $ 27,742 (54%) (53%) $ 31,015 $ 53,402 (42%) (40%)',
        'In addition, in the first quarter of 2023, Pfizer established an operating segment, Business Innovation.',
      ].join('\n');
    const footnote = (segments: string) =>
      `(b) We manage our commercial operations through ${segments} operating segments, each led by a single manager: Biopharma, our innovative science-based biopharmaceutical business, and Business Innovation.`;
    expect(extractKeyFigures(pages(table('2,956'), footnote('two'))).segmentRevenue).toEqual([
      { segment: 'Global Biopharmaceuticals Business (Biopharma)', value: 12418, unit: 'millions', page: 1, period: 'Second-Quarter 2023', label: 'Global Biopharmaceuticals Business (Biopharma)' },
      { segment: 'Business Innovation', value: 316, unit: 'millions', page: 1, period: 'Second-Quarter 2023', label: 'Business Innovation' },
    ]);
    // Sub-lines that do not add up to their segment, or a filing that does not name these two segments: nothing.
    expect(extractKeyFigures(pages(table('2,996'), footnote('two'))).segmentRevenue).toBeUndefined();
    expect(extractKeyFigures(pages(table('2,956'), footnote('three'))).segmentRevenue).toBeUndefined();
    expect(extractKeyFigures(pages(table('2,956'))).segmentRevenue).toBeUndefined();
  });

  it('reads a segment printed as product lines and an unlabelled subtotal, only when the subtotal adds up', () => {
    const release = (other: string) =>
      [
        'Supplemental Operating Segment Results',
        'Three Months Ended Twelve Months Ended',
        '(In Millions) Dec 31, 2022 Dec 25, 2021 Dec 31, 2022 Dec 25, 2021',
        'Operating segment revenue:',
        'Client Computing',
        'Desktop $ 2,509 $ 3,756 $ 10,661 $ 12,437',
        'Notebook 3,663 5,809 18,783 25,443',
        `Other ${other} 738 2,264 3,187`,
        '6,625 10,303 31,708 41,067',
        'Data Center and AI 4,304 6,426 19,196 22,691',
        'Total operating segment revenue $ 10,929 $ 16,729 $ 50,904 $ 63,758',
      ].join('\n');
    expect(extractKeyFigures(pages(release('453'))).segmentRevenue).toEqual([
      { segment: 'Client Computing', value: 6625, unit: 'millions', page: 1, period: 'Three Months Ended Dec 31, 2022', label: 'Client Computing' },
      { segment: 'Data Center and AI', value: 4304, unit: 'millions', page: 1, period: 'Three Months Ended Dec 31, 2022', label: 'Data Center and AI' },
    ]);
    expect(extractKeyFigures(pages(release('463'))).segmentRevenue).toBeUndefined();
  });

  it('returns none when the segments do not add up to the total', () => {
    expect(extractKeyFigures(pages(income, revenueBlock('610'))).segmentRevenue).toBeUndefined();
  });

  it('returns none for a table that is not said to be by segment, or for revenue split by source', () => {
    // The page speaks of segments, but this table is revenue by region.
    const byRegion = revenueBlock('600', 'Revenue by the region of the customer was as follows during the periods presented:');
    expect(extractKeyFigures(pages(income, byRegion)).segmentRevenue).toBeUndefined();
    const bySource = ['Segment information (in millions)', 'Net operating revenues:', 'Third party \t$ \t900', 'Intersegment \t120', 'Total \t$ \t1,020'].join('\n');
    expect(extractKeyFigures(pages(income, bySource)).segmentRevenue).toBeUndefined();
    expect(extractKeyFigures(pages(income)).segmentRevenue).toBeUndefined();
  });

  it('finance.keyFigures returns it, and `only` keeps it only when asked', async () => {
    const ctx = { signal: new AbortController().signal, logger: silentLogger() } as unknown as ToolContext;
    const text = `${income}\f${revenueBlock('600')}`;
    const all = await keyFiguresTool.execute(keyFiguresTool.input.parse({ text }), ctx);
    expect(keyFiguresOutputSchema.parse(all).segmentRevenue).toHaveLength(2);
    const some = await keyFiguresTool.execute(keyFiguresTool.input.parse({ text, only: ['revenue', 'segmentRevenue'] }), ctx);
    expect(some.segmentRevenue).toEqual(all.segmentRevenue);
    const none = await keyFiguresTool.execute(keyFiguresTool.input.parse({ text, only: ['revenue'] }), ctx);
    expect(none).not.toHaveProperty('segmentRevenue');
  });
});
