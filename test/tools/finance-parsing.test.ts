import { describe, expect, it } from 'vitest';
import { currentPeriodColumn, describePeriod } from '../../src/tools/finance/describe-period';
import { ToolInputError } from '../../src/errors';
import { extractKeyFigures } from '../../src/tools/finance/extract-key-figures';
import { parseAmount } from '../../src/tools/finance/parse-amount';
import { splitStatementRow } from '../../src/tools/finance/split-statement-row';
import { detectStatementHeading, detectUnit } from '../../src/tools/finance/statement-heading';

describe('parseAmount', () => {
  it('reads thousands separators, decimals and currency signs', () => {
    expect(parseAmount('386,064')).toBe(386064);
    expect(parseAmount('$386,064')).toBe(386064);
    expect(parseAmount('41.83')).toBe(41.83);
    expect(parseAmount('5,897.8')).toBe(5897.8);
  });
  it('reads parentheses and minus signs as negative numbers', () => {
    expect(parseAmount('(1,132)')).toBe(-1132);
    expect(parseAmount('(0.16)')).toBe(-0.16);
    expect(parseAmount('$(69)')).toBe(-69);
    expect(parseAmount('-3.1%')).toBe(-3.1);
  });
  it('reads dashes as the printed zero and n/m or * as an empty column', () => {
    expect(parseAmount('—')).toBe(0);
    expect(parseAmount('–')).toBe(0);
    expect(parseAmount('-')).toBe(0);
    expect(parseAmount('n/m')).toBeNull();
    expect(parseAmount('*')).toBeNull();
  });
  it('refuses words, dates and half-open parentheses', () => {
    expect(parseAmount('sales')).toBeUndefined();
    expect(parseAmount('31,')).toBeUndefined();
    expect(parseAmount('(3')).toBeUndefined();
    expect(parseAmount('1,23')).toBeUndefined();
  });
});

describe('splitStatementRow', () => {
  it('splits a tab-separated pdf-parse row with "$" cells', () => {
    expect(splitStatementRow('Net income \t$ \t10,073 \t$ \t11,588 \t$ \t21,331')).toMatchObject({
      label: 'Net income',
      values: [10073, 11588, 21331],
      currencySymbols: ['$', '$', '$'],
    });
    expect(splitStatementRow('Products \t$ \t60,584 $ \t63,355 $ \t230,901').values).toEqual([60584, 63355, 230901]);
  });
  it('splits a space-separated row with parentheses and dashes', () => {
    expect(splitStatementRow('Operating income (loss) (1,132) 4,989 2,334 19,456')).toMatchObject({
      label: 'Operating income (loss)',
      values: [-1132, 4989, 2334, 19456],
    });
    expect(splitStatementRow('Less: Net income attributable to non-controlling interests 3 — 3 —').values).toEqual([3, 0, 3, 0]);
  });
  it('keeps a footnote marker in the label cell out of the values and off the label', () => {
    expect(splitStatementRow('Net cash provided by (used in) operating activities (3) \t$ \t17,203 \t$ \t18,365')).toMatchObject({
      label: 'Net cash provided by (used in) operating activities',
      values: [17203, 18365],
    });
    expect(splitStatementRow('Cost of sales(2) 3,237 8,648 (63)').label).toBe('Cost of sales');
    expect(splitStatementRow('Total net revenues (1)(2)(3) \t$ 2,510 \t$ 2,510').label).toBe('Total net revenues');
    expect(splitStatementRow('Diluted Net Income Per Share1   $   1.79 $   2.07').label).toBe('Diluted Net Income Per Share');
    expect(splitStatementRow('Level 2 securities   4,794').label).toBe('Level 2 securities');
  });
  it('reads amounts with spaces inside their parentheses', () => {
    expect(splitStatementRow('Net loss   ( 1,234 )   ( 567 )').values).toEqual([-1234, -567]);
  });
  it('marks percentage columns and keeps n/m columns in place', () => {
    const row = splitStatementRow('Revenues \t$ 5,897.8 \t$ 5,665.6 \t4 % \t8 %');
    expect(row.values).toEqual([5897.8, 5665.6, 4, 8]);
    expect(row.percent).toEqual([false, false, true, true]);
    expect(splitStatementRow('Other (income)/deductions––net(5) (347) 772 * (277)').values).toEqual([-347, 772, null, -277]);
  });
  it('reads a header row of years as values with no label', () => {
    expect(splitStatementRow('2018 \t2019 \t2020')).toMatchObject({ label: '', values: [2018, 2019, 2020] });
  });
});

describe('statement headings and units', () => {
  it('recognises statement headings in their printed variants', () => {
    expect(detectStatementHeading('CONSOLIDATED STATEMENTS OF OPERATIONS')).toBe('income');
    expect(detectStatementHeading('CONDENSED CONSOLIDATED STATEMENT OF INCOME (UNAUDITED)')).toBe('income');
    expect(detectStatementHeading('CONSOLIDATED STATEMENTS OF INCOME(1)')).toBe('income');
    expect(detectStatementHeading('Consolidated Statements of Income and Other Information')).toBe('income');
    expect(detectStatementHeading('INCOME STATEMENTS')).toBe('income');
    expect(detectStatementHeading('Unaudited Condensed Consolidated Statement of Cash Flows')).toBe('cashFlow');
    expect(detectStatementHeading('CASH FLOWS STATEMENTS')).toBe('cashFlow');
    expect(detectStatementHeading('COMPREHENSIVE INCOME STATEMENTS')).toBe('comprehensiveIncome');
    expect(detectStatementHeading('CONSOLIDATED BALANCE SHEETS')).toBe('balanceSheet');
    expect(detectStatementHeading('Condensed Consolidated Statements of Operations and Comprehensive Income (Loss)')).toBe('income');
    expect(detectStatementHeading('CONSOLIDATED STATEMENTS OF CASH FLOWS (Continued)')).toBe('cashFlow');
    expect(detectStatementHeading('Consolidated Statements of Comprehensive Income')).toBe('comprehensiveIncome');
  });
  it('does not take table-of-contents lines, notes or prose for headings', () => {
    expect(detectStatementHeading('Consolidated Statements of Operations \t40')).toBeUndefined();
    expect(detectStatementHeading('NOTES TO CONSOLIDATED STATEMENTS OF INCOME - (UNAUDITED)')).toBeUndefined();
    expect(detectStatementHeading('and the related consolidated statements of operations, comprehensive income')).toBeUndefined();
  });
  it('reads the unit from the heading, before its exceptions', () => {
    expect(detectUnit('(in millions, except per share data)')).toBe('millions');
    expect(detectUnit('(In Millions, Except Per Share Amounts; unaudited) Dec 31, 2022')).toBe('millions');
    expect(detectUnit('Dollars and shares in millions, except per share data')).toBe('millions');
    expect(detectUnit('(millions, except per share data)')).toBe('millions');
    expect(detectUnit('(in thousands, except per share data)')).toBe('thousands');
    expect(detectUnit('(In millions, except number of shares which are reflected in thousands and per share amounts)')).toBe('millions');
    expect(detectUnit('Shares used in calculation (000s):')).toBe('thousands');
    expect(detectUnit('Net sales increased 8 percent')).toBeUndefined();
  });
});

describe('column choice and period', () => {
  it('takes the first column unless the latest year is printed elsewhere one-to-one with the columns', () => {
    expect(currentPeriodColumn([2020, 2019, 2018], 3)).toBe(0);
    expect(currentPeriodColumn([2018, 2019, 2020], 3)).toBe(2);
    expect(currentPeriodColumn([2023, 2022, 2023, 2022], 4)).toBe(0);
    expect(currentPeriodColumn([2022, 2023], 4)).toBe(0);
    expect(currentPeriodColumn([], 3)).toBe(0);
  });
  it('names the period of a column from the headings', () => {
    expect(describePeriod('Year Ended December 31,\n2018 \t2019 \t2020', 2)).toBe('Year Ended December 31, 2020');
    expect(describePeriod('Three Months Ended \tNine Months Ended\nJuly 1,\n2023 June 25,\n2022 July 1,\n2023 June 25,\n2022', 0)).toBe(
      'Three Months Ended July 1, 2023',
    );
    expect(describePeriod('12 Weeks Ended\nNovember 20, 2022 \tNovember 21, 2021', 0)).toBe('12 Weeks Ended November 20, 2022');
    expect(describePeriod('Second-Quarter % Incr. / Six Months % Incr. /\n2023 2022 (Decr.) 2023 2022 (Decr.)', 0)).toBe('Second-Quarter 2023');
    expect(describePeriod('Second-Quarter % Incr. / Six Months % Incr. /\n2023 2022 (Decr.) 2023 2022 (Decr.)', 2, 4)).toBe('Six Months 2023');
    expect(describePeriod('Three Months Ended \tNine Months Ended\nJuly 1,\n2023 June 25,\n2022 July 1,\n2023 June 25,\n2022', 3, 4)).toBe(
      'Nine Months Ended June 25, 2022',
    );
    expect(describePeriod('(in millions)', 0)).toBeUndefined();
  });
});

describe('extractKeyFigures on small statements', () => {
  const incomeStatement = [
    'ACME CORP.',
    'CONSOLIDATED STATEMENTS OF OPERATIONS',
    '(in thousands, except per share data)',
    'Year Ended December 31,',
    '2021 \t2022 \t2023',
    'Net sales \t$ \t900 \t$ \t950 \t$ \t1,000',
    'Membership fees \t10 \t10 \t20',
    'Total revenues \t910 \t960 \t1,020',
    'Operating income (loss) \t(5) \t— \t(120)',
    'Net loss \t$ \t(7) \t$ \t(2) \t$ \t(130)',
    'Earnings per share:',
    'Basic \t$ \t(0.07) \t$ \t(0.02) \t$ \t(1.30)',
    'Diluted \t$ \t(0.07) \t$ \t(0.02) \t$ \t(1.30)',
    'Weighted-average shares:',
    'Diluted \t100 \t100 \t100',
  ].join('\n');

  it('reads the latest column, negative numbers, dashes, the unit and the per-share row', () => {
    const result = extractKeyFigures([{ number: 7, text: incomeStatement }]);
    expect(result.currency).toBe('USD');
    expect(result.period).toBe('Year Ended December 31, 2023');
    expect(result.figures.revenue).toEqual({
      value: 1020,
      unit: 'thousands',
      page: 7,
      label: 'Total revenues',
      period: 'Year Ended December 31, 2023',
    });
    expect(result.figures.operatingIncome).toMatchObject({ value: -120, label: 'Operating income (loss)' });
    expect(result.figures.netIncome).toMatchObject({ value: -130, label: 'Net loss' });
    expect(result.figures.dilutedEps).toMatchObject({ value: -1.3, unit: 'units', label: 'Earnings per share: Diluted' });
  });

  it('prefers the statement over a summary table of the same line item, and leaves missing figures out', () => {
    const summary = { number: 2, text: 'Financial highlights\n(in millions)\nTotal revenues \t$ 1.0 \t$ 0.9\nNet loss \t(0.1) \t—' };
    const result = extractKeyFigures([summary, { number: 7, text: incomeStatement }]);
    expect(result.figures.revenue).toMatchObject({ page: 7, value: 1020 });
    expect(result.figures.operatingCashFlow).toBeUndefined();
    expect(extractKeyFigures([summary]).figures.revenue).toMatchObject({ page: 2, value: 1, unit: 'millions' });
  });

  it('takes net income attributable to the company over consolidated net income, never a per-share line', () => {
    const text = [
      'CONSOLIDATED STATEMENTS OF INCOME',
      '(In millions)',
      'Three Months Ended \t2023 \t2022',
      'Revenues \t500 \t400',
      'Consolidated net income \t60 \t50',
      'Less: Net income attributable to noncontrolling interests \t2 \t1',
      'Net income attributable to Acme Inc. common shareholders \t58 \t49',
      'Earnings per common share—diluted:',
      'Net income attributable to Acme Inc. common shareholders \t0.58 \t0.49',
    ].join('\n');
    const result = extractKeyFigures([{ number: 1, text }]);
    expect(result.figures.netIncome).toMatchObject({ value: 58, label: 'Net income attributable to Acme Inc. common shareholders' });
    expect(result.figures.dilutedEps).toMatchObject({ value: 0.58 });
  });

  it('joins a wrapped line item and reads a heading printed below its table', () => {
    const text = [
      'Second-Quarter Six Months',
      '2023 2022 2023 2022',
      'Revenues $ 1,200 $ 1,100 $ 2,300 $ 2,000',
      'Net cash provided by operating',
      'activities 300 250 500 450',
      'CONSOLIDATED STATEMENTS OF CASH FLOWS',
      '(millions)',
      '- 18 -',
    ].join('\n');
    const result = extractKeyFigures([{ number: 18, text }]);
    expect(result.figures.operatingCashFlow).toMatchObject({
      value: 300,
      unit: 'millions',
      label: 'Net cash provided by operating activities',
      period: 'Second-Quarter 2023',
    });
  });

  it('does not read a share count under "Shares used in computing earnings per share" as EPS', () => {
    const text = [
      'CONSOLIDATED STATEMENTS OF OPERATIONS',
      '(In millions, except per share amounts)',
      'Shares used in computing earnings per share:',
      'Diluted \t15,775 \t16,262',
      'Earnings per share:',
      'Diluted \t$ \t1.26 $ \t1.20',
    ].join('\n');
    expect(extractKeyFigures([{ number: 1, text }]).figures.dilutedEps).toMatchObject({ value: 1.26, label: 'Earnings per share: Diluted' });
  });

  it('takes the currency from the page when the figure rows print no symbol', () => {
    const text = 'CONSOLIDATED STATEMENTS OF INCOME\n(in millions of U.S. dollars)\nTotal revenues \t70 \t60';
    expect(extractKeyFigures([{ number: 1, text }]).currency).toBe('USD');
    const euros = 'CONSOLIDATED STATEMENTS OF INCOME\n(in millions)\nTotal revenues \t70 \t60\nNet income \t€ \t7 \t€ \t6';
    expect(extractKeyFigures([{ number: 1, text: euros }]).currency).toBe('EUR');
  });

  it('refuses pages that are not { number, text } with a ToolInputError naming the page', () => {
    expect(() => extractKeyFigures([{ number: 1, text: 'x' }, { number: 0, text: 'y' }])).toThrow(ToolInputError);
    expect(() => extractKeyFigures([{ number: 1, text: 'x' }, { number: 0, text: 'y' }])).toThrow(/pages\[1\]/);
    expect(() => extractKeyFigures('text' as never)).toThrow(ToolInputError);
  });

  it('knows the common spellings of each line item', () => {
    const statement = (rows: string[]): string =>
      ['CONSOLIDATED STATEMENTS OF INCOME', '(in millions)', 'Year Ended \t2023 \t2022', ...rows].join('\n');
    const cashFlow = (row: string): string => ['CONSOLIDATED STATEMENTS OF CASH FLOWS', '(in millions)', row].join('\n');
    const figures = (text: string) => extractKeyFigures([{ number: 1, text }]).figures;
    expect(figures(statement(['Net income per share, diluted \t1.10 \t1.00'])).dilutedEps?.value).toBe(1.1);
    expect(figures(statement(['Diluted net earnings per common share \t2.10 \t2.00'])).dilutedEps?.value).toBe(2.1);
    expect(figures(statement(['Net earnings attributable to Procter & Gamble \t14,653 \t14,742'])).netIncome?.value).toBe(14653);
    expect(figures(statement(['Income (loss) from operations \t(12) \t30'])).operatingIncome?.value).toBe(-12);
    expect(figures(cashFlow('Net cash flows from operating activities \t500 \t400')).operatingCashFlow?.value).toBe(500);
    expect(figures(cashFlow('Cash provided by operations \t600 \t400')).operatingCashFlow?.value).toBe(600);
    expect(figures(statement(['Net income attributable to noncontrolling interests \t3 \t2'])).netIncome).toBeUndefined();
  });

  it('accepts extra synonyms as data', () => {
    const text = 'CONSOLIDATED STATEMENTS OF INCOME\n(in millions)\nTurnover \t70 \t60';
    expect(extractKeyFigures([{ number: 1, text }]).figures.revenue).toBeUndefined();
    const result = extractKeyFigures([{ number: 1, text }], { synonyms: { revenue: { statement: 'income', patterns: [/^turnover$/] } } });
    expect(result.figures.revenue).toMatchObject({ value: 70, label: 'Turnover' });
  });
});
