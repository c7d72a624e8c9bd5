/**
 * readStatementTables / readFilingTables on small page texts in pdf-parse's shape (tab-separated cells): row measures,
 * units, change columns, and when a page continues the previous page's statement. The corpus checks against
 * pdftotext -layout are in pdf-tables-corpus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFilingTables, readStatementTables } from '../../src/tools/finance/read-statement-tables';

const balanceSheet = [
  'CONSOLIDATED BALANCE SHEETS',
  '(in thousands, except share data)',
  'December 31, 2023 \tDecember 31, 2022',
  'ASSETS',
  'Current assets:',
  'Cash and cash equivalents \t$ \t1,200 \t$ \t900',
  'Total current assets \t2,000 \t1,700',
  'Total assets \t$ \t5,000 \t$ \t4,400',
].join('\n');

describe('readStatementTables', () => {
  it('reads a balance sheet with its unit, periods and subheadings', () => {
    const [table] = readStatementTables({ number: 3, text: balanceSheet });
    expect(table).toMatchObject({ page: 3, kind: 'balanceSheet', title: 'CONSOLIDATED BALANCE SHEETS', unit: 'thousands', unitStated: true });
    expect(table!.columns).toEqual([{ period: 'December 31, 2023' }, { period: 'December 31, 2022' }]);
    expect(table!.rows[0]).toEqual({ label: 'Cash and cash equivalents', section: 'Current assets', values: [1200, 900], measure: 'amount', currencySymbols: ['$', '$'], unit: 'thousands' });
  });

  it('reads a balance-sheet line that mentions shares as an amount, a share count under its heading as shares', () => {
    const text = [
      'CONSOLIDATED BALANCE SHEETS',
      '(in millions)',
      '2023 \t2022',
      'Common stock, $0.01 par value; 5,000 shares authorized \t5 \t5',
      'CONSOLIDATED STATEMENTS OF OPERATIONS',
      '(in millions, except number of shares, which are reflected in thousands, and per share amounts)',
      '2023 \t2022',
      'Net income \t100 \t90',
      'Earnings per share:',
      'Basic \t$ \t1.10 \t$ \t0.95',
      'Shares used in computing earnings per share:',
      'Basic \t90,500 \t94,000',
    ].join('\n');
    const [balance, income] = readStatementTables({ number: 1, text });
    expect(balance!.rows[0]).toMatchObject({ measure: 'amount', unit: 'millions' });
    expect(income!.rows.map((row) => [row.label, row.measure, row.unit])).toEqual([
      ['Net income', 'amount', 'millions'],
      ['Basic', 'perShare', 'units'],
      ['Basic', 'shares', 'thousands'],
    ]);
  });

  it('marks change columns and names the periods around them', () => {
    const text = [
      'CONSOLIDATED STATEMENTS OF INCOME',
      '(millions)',
      'Second-Quarter % Incr. / Six Months % Incr. /',
      '2023 2022 (Decr.) 2023 2022 (Decr.)',
      'Revenues \t$ \t12,734 \t$ \t27,742 \t(54) \t$ \t31,016 \t$ \t53,104 \t(42)',
    ].join('\n');
    const [table] = readStatementTables({ number: 18, text });
    expect(table!.columns).toEqual([
      { period: 'Second-Quarter 2023' },
      { period: 'Second-Quarter 2022' },
      { change: true },
      { period: 'Six Months 2023' },
      { period: 'Six Months 2022' },
      { change: true },
    ]);
    expect(table!.rows[0]!.values).toEqual([12734, 27742, -54, 31016, 53104, -42]);
  });
});

describe('readFilingTables', () => {
  const liabilities = ['Current liabilities:', 'Accounts payable \t300 \t280', 'Long-term debt \t1,000 \t1,100', 'Total liabilities \t1,300 \t1,380'].join('\n');

  it('continues a statement on the next page when that page starts with its rows', () => {
    const tables = readFilingTables([
      { number: 3, text: balanceSheet },
      { number: 4, text: liabilities },
    ]);
    expect(tables.map((table) => [table.page, table.kind, table.continued ?? false])).toEqual([
      [3, 'balanceSheet', false],
      [4, 'balanceSheet', true],
    ]);
    expect(tables[1]).toMatchObject({ unit: 'thousands', columns: [{ period: 'December 31, 2023' }, { period: 'December 31, 2022' }] });
  });

  it('does not continue onto a page of notes, a page that does not follow, or rows of another width', () => {
    const notes = [
      'Notes to Consolidated Financial Statements',
      'The Company reports revenue net of taxes collected from customers and remitted to governmental authorities.',
      'Revenue by region \t300 \t280',
      'We assess goodwill for impairment annually and whenever events indicate that it may not be recoverable.',
      'Americas \t100 \t90',
      'Leases are recognised as right-of-use assets and lease liabilities at the commencement date of each lease.',
      'Europe \t200 \t190',
      'Fair value measurements use the three-level hierarchy of observable and unobservable inputs set out in ASC 820.',
    ].join('\n');
    expect(readFilingTables([{ number: 3, text: balanceSheet }, { number: 4, text: notes }]).map((table) => table.page)).toEqual([3]);
    expect(readFilingTables([{ number: 3, text: balanceSheet }, { number: 5, text: liabilities }]).map((table) => table.page)).toEqual([3]);
    const threeColumns = liabilities.replace(/\t(\d[\d,]*) \t(\d[\d,]*)/g, '\t$1 \t$2 \t7');
    expect(readFilingTables([{ number: 3, text: balanceSheet }, { number: 4, text: threeColumns }]).map((table) => table.page)).toEqual([3]);
    expect(readFilingTables([{ number: 3, text: balanceSheet }, { number: 4, text: notes }], { includeUnheaded: true }).map((table) => table.kind)).toEqual([
      'balanceSheet',
      'other',
    ]);
  });
});
