/**
 * `pdf.tables` on every statement page of the 12 shared filings, cell by cell against poppler's `pdftotext -layout`.
 *
 * Statement pages are found in poppler's text, independently of our reader: a page with an income statement, balance
 * sheet or cash flow heading and at least 5 lines of numbers. Every such heading must give a table of that kind on
 * that page. Every row of every income, balance sheet and cash flow table (continued ones too) is then looked up on
 * the page's layout line with the same label (letters only, poppler's lost ligatures dropped on both sides; a label
 * wrapped over two lines matches by its end) and its numbers must be exactly the numbers of that line.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFilingTables, type StatementTable } from '../../src/tools/finance/read-statement-tables';
import { splitStatementRow } from '../../src/tools/finance/split-statement-row';
import { detectStatementHeading } from '../../src/tools/finance/statement-heading';
import { readPdf } from '../../src/tools/pdf/read-pdf';
import { corpusDir, corpusMissingMessage, corpusPresent, popplerPresent } from '../support/pdf-corpus';


if (!corpusPresent) console.warn(corpusMissingMessage);
else if (!popplerPresent) console.warn('pdftotext (poppler-utils) is not installed; skipping pdf.tables against pdftotext -layout.');

const files = corpusPresent ? readdirSync(corpusDir).filter((name) => name.endsWith('.pdf')).sort() : [];
const checkedKinds = new Set(['income', 'balanceSheet', 'cashFlow']);

/** Statement pages per poppler, with the kinds their headings name. */
function statementPages(layout: string[]): Map<number, Set<string>> {
  const pages = new Map<number, Set<string>>();
  layout.forEach((text, index) => {
    const lines = text.split('\n');
    const kinds = new Set(lines.map((line) => detectStatementHeading(line.trim())).filter((kind): kind is NonNullable<typeof kind> => kind !== undefined && checkedKinds.has(kind)));
    const numericLines = lines.filter((line) => splitStatementRow(line).values.length >= 2).length;
    if (kinds.size > 0 && numericLines >= 5) pages.set(index + 1, kinds);
  });
  return pages;
}

/** A layout line as label and numbers: runs of 2+ spaces separate cells; a "(1)" footnote glued to the label is dropped. */
function layoutRow(line: string) {
  return splitStatementRow(line.trim().replace(/(?<=[A-Za-z,;:]) ?\(\d\)(?=\s)/g, '').replace(/\s{2,}/g, '\t'));
}

const labelKey = (label: string): string => label.toLowerCase().replace(/ff[il]?|f[il]/g, '').replace(/[^a-z0-9]/g, '');

interface FilingCheck {
  pages: Map<number, Set<string>>;
  tables: StatementTable[];
  layout: string[];
}

describe.skipIf(!corpusPresent || !popplerPresent)('pdf.tables against pdftotext -layout on the shared filings', () => {
  const checks = new Map<string, FilingCheck>();
  const totals = { cells: 0, rows: 0 };

  beforeAll(async () => {
    for (const file of files) {
      const path = resolve(corpusDir, file);
      const layout = execFileSync('pdftotext', ['-layout', path, '-'], { maxBuffer: 256 * 1024 * 1024 }).toString().split('\f');
      const pages = statementPages(layout);
      // The page after each statement page too: a statement may continue there without its heading.
      const wanted = [...new Set([...pages.keys()].flatMap((page) => [page, page + 1]))].filter((page) => page <= layout.length - 1 || page === 1);
      const document = wanted.length > 0 ? await readPdf(readFileSync(path), { fileName: file, pages: wanted }) : { pages: [] };
      checks.set(file, { pages, layout, tables: readFilingTables(document.pages) });
    }
  }, 120_000);

  it.each(files)('%s: a table for every statement heading poppler finds, every cell equal to the layout line', (file) => {
    const { pages, layout, tables } = checks.get(file)!;
    for (const [page, kinds] of pages) {
      for (const kind of kinds) {
        expect(tables.some((table) => table.page === page && table.kind === kind), `${file} page ${page}: a ${kind} table`).toBe(true);
      }
    }
    const mismatches: string[] = [];
    let cells = 0;
    const checked = tables.filter((table) => checkedKinds.has(table.kind));
    for (const page of new Set(checked.map((table) => table.page))) {
      const rows = layout[page - 1]!.split('\n').map(layoutRow).filter((row) => row.values.length > 0);
      const used = new Set<number>();
      for (const row of checked.filter((table) => table.page === page).flatMap((table) => table.rows)) {
        const key = labelKey(row.label);
        let index = rows.findIndex((candidate, at) => !used.has(at) && labelKey(candidate.label) === key);
        if (index < 0) index = rows.findIndex((candidate, at) => !used.has(at) && candidate.label !== '' && (key.endsWith(labelKey(candidate.label)) || labelKey(candidate.label).endsWith(key)));
        if (index < 0) {
          mismatches.push(`page ${page}: no layout line for "${row.label}"`);
          continue;
        }
        used.add(index);
        cells += row.values.length;
        if (JSON.stringify(rows[index]!.values) !== JSON.stringify(row.values)) {
          mismatches.push(`page ${page} "${row.label}": ours ${JSON.stringify(row.values)}, pdftotext ${JSON.stringify(rows[index]!.values)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    totals.cells += cells;
    totals.rows += checked.reduce((sum, table) => sum + table.rows.length, 0);
    console.log(`${file}: ${pages.size} statement pages, ${checked.length} tables, ${cells} cells equal to pdftotext -layout`);
  });

  it('the corpus has statement pages in 11 filings (the J&J 8-K has none) and over 2,000 checked cells', () => {
    const withStatements = files.filter((file) => checks.get(file)!.pages.size > 0);
    expect(withStatements).toHaveLength(11);
    expect(checks.get('JOHNSON_JOHNSON_2023_8K_dated-2023-08-23.pdf')!.tables).toEqual([]);
    expect(totals.cells).toBeGreaterThan(2000);
  });

  it("reads Apple's income statement: periods, units, per-share and share rows, parentheses as negatives", () => {
    const income = checks.get('APPLE_2023Q3_10Q.pdf')!.tables.find((table) => table.kind === 'income')!;
    expect(income).toMatchObject({ page: 4, unit: 'millions', unitStated: true, currencySymbols: ['$'] });
    expect(income.columns.map((column) => column.period)).toEqual([
      'Three Months Ended July 1, 2023',
      'Three Months Ended June 25, 2022',
      'Nine Months Ended July 1, 2023',
      'Nine Months Ended June 25, 2022',
    ]);
    const row = (label: string, section?: string) => income.rows.find((candidate) => candidate.label === label && (section === undefined || candidate.section === section));
    expect(row('Total net sales')).toMatchObject({ values: [81797, 82959, 293787, 304182], measure: 'amount', unit: 'millions' });
    expect(row('Other income/(expense), net')!.values).toEqual([-265, -10, -594, -97]);
    expect(row('Diluted', 'Earnings per share')).toMatchObject({ values: [1.26, 1.2, 4.67, 4.82], measure: 'perShare', unit: 'units' });
    expect(row('Basic', 'Shares used in computing earnings per share')).toMatchObject({
      values: [15697614, 16162945, 15792497, 16277824],
      measure: 'shares',
      unit: 'thousands',
    });
  });

  it("continues eBay's balance sheet onto page 8 and reads a dash as zero", () => {
    const tables = checks.get('EBAY_2023Q1_EARNINGS.pdf')!.tables;
    const continued = tables.find((table) => table.page === 8 && table.kind === 'balanceSheet')!;
    expect(continued).toMatchObject({ continued: true, unit: 'millions', columns: [{ period: 'March 31, 2023' }, { period: 'December 31, 2022' }] });
    expect(continued.rows.find((row) => row.label === 'Short-term debt')!.values).toEqual([0, 1150]);
    expect(continued.rows.find((row) => row.label === 'Long-term debt')!.values).toEqual([7721, 7721]);
    expect(continued.rows.find((row) => row.label === 'Total liabilities')!.values).toEqual([14617, 15697]);
  });

  it("names Pfizer's period columns around its change columns", () => {
    const income = checks.get('PFIZER_2023Q2_EARNINGS.pdf')!.tables.find((table) => table.kind === 'income')!;
    expect(income.columns).toEqual([
      { period: 'Second-Quarter 2023' },
      { period: 'Second-Quarter 2022' },
      { change: true },
      { period: 'Six Months 2023' },
      { period: 'Six Months 2022' },
      { change: true },
    ]);
  });

  it('reads Netflix 2016 amounts in thousands', () => {
    const balance = checks.get('NETFLIX_2016_10K.pdf')!.tables.find((table) => table.page === 45 && table.kind === 'balanceSheet')!;
    expect(balance).toMatchObject({ unit: 'thousands', columns: [{ period: '2016' }, { period: '2015' }] });
    expect(balance.rows.find((row) => row.label === 'Total assets')!.values).toEqual([13586610, 10202871]);
  });
});
