import { currentPeriodColumn, describePeriod, headingYears } from './describe-period';
import {
  defaultLineItemSynonyms,
  keyFigureNames,
  normalizeLabel,
  type KeyFigureName,
  type LineItemSynonyms,
} from './line-item-synonyms';
import { readFilingTables, type StatementTable, type TableRow } from './read-statement-tables';
import type { StatementSection } from './read-statement-sections';
import { extractSegmentRevenue, type SegmentRevenue } from './extract-segment-revenue';
import type { FigureUnit } from './statement-heading';
import { ToolInputError } from '../../errors';

export interface FilingPage {
  /** 1-based page number. */
  number: number;
  text: string;
}

export interface KeyFigure {
  value: number;
  unit: FigureUnit;
  /** 1-based page the figure was read from. */
  page: number;
  /** The line item as printed, e.g. "Total net sales". */
  label: string;
  /** The column heading the value came from, when the table names one, e.g. "Year Ended December 31, 2020". */
  period?: string;
  /**
   * Set when the filing does not print the figure and it is computed from two that it prints: free cash flow as
   * operating cash flow minus capital expenditures, from the same cash flow column.
   */
  derived?: true;
}

export interface KeyFigures {
  /** ISO 4217 code of the currency printed beside the amounts, or null when none is printed. */
  currency: string | null;
  figures: Partial<Record<KeyFigureName, KeyFigure>>;
  /** The period of the revenue figure (else of the first figure found). */
  period?: string;
  /**
   * Revenue per operating segment for the current period, from the filing's segment table; absent when the filing
   * prints none that adds up to its total (see `extractSegmentRevenue`).
   */
  segmentRevenue?: SegmentRevenue[];
}

export interface ExtractKeyFiguresOptions {
  /**
   * Line-item synonyms per figure, merged over the built-in ones (a figure given here replaces its built-in entry).
   * Defaults to `defaultLineItemSynonyms`.
   */
  synonyms?: Partial<Record<KeyFigureName, LineItemSynonyms>>;
}

interface Candidate {
  figure: KeyFigureName;
  rank: number;
  page: number;
  row: number;
  /** Which table and column it came from, to pair figures of the same period (free cash flow). */
  column: { table: StatementTable; index: number };
  result: KeyFigure;
  currencySymbols: string[];
  /** The currency symbol most amounts on the page carry, for rows printed without one. */
  pageCurrency: string | undefined;
}

const currencyCodes: Record<string, string> = { $: 'USD', US$: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };
const figureNames: readonly KeyFigureName[] = keyFigureNames;
/** The figures the filing's currency and headline period are read from. */
const headlineFigures: KeyFigureName[] = ['revenue', 'netIncome', 'operatingIncome', 'operatingCashFlow', 'dilutedEps'];
const selectedDataPage = /selected (?:consolidated )?financial data|financial highlights/i;

/**
 * Find the key figures of a filing in the statement tables of its pages (`readFilingTables`): revenue, net income,
 * operating income, operating cash flow, diluted and basic EPS, the basic weighted-average share count, total assets,
 * total liabilities, cash and equivalents, long-term debt, capital expenditures and free cash flow (printed, else
 * derived). Deterministic: statement headings set the context and the unit, synonyms (data) name the line items, and
 * the current period column is read from each row. Figures on the statement they belong to win over the same line
 * item in a summary table or another statement. A figure the filing does not print is absent, never guessed.
 */
export function extractKeyFigures(pages: readonly FilingPage[], options: ExtractKeyFiguresOptions = {}): KeyFigures {
  checkPages(pages);
  const synonyms = { ...defaultLineItemSynonyms, ...options.synonyms };
  const tables = readFilingTables([...pages].sort((a, b) => a.number - b.number), { includeUnheaded: true });
  const selectedDataPages = new Set(pages.filter((page) => selectedDataPage.test(page.text)).map((page) => page.number));
  const usdPages = new Set(pages.filter((page) => /\bU\.?S\.? dollars\b|\bUSD\b/i.test(page.text)).map((page) => page.number));
  const candidates: Candidate[] = [];
  tables.forEach((table) => candidates.push(...tableCandidates(table, synonyms, selectedDataPages.has(table.page), usdPages.has(table.page))));

  const best = new Map<KeyFigureName, Candidate>();
  for (const figure of figureNames) {
    const found = candidates
      .filter((candidate) => candidate.figure === figure)
      .sort((a, b) => a.rank - b.rank || a.page - b.page || a.row - b.row)[0];
    if (found) best.set(figure, found);
  }
  const figures: Partial<Record<KeyFigureName, KeyFigure>> = {};
  for (const [figure, candidate] of best) figures[figure] = candidate.result;
  // A printed free cash flow counts for the period of the operating cash flow; else it is derived from that column.
  const operatingPeriod = figures.operatingCashFlow?.period;
  if (figures.freeCashFlow && operatingPeriod !== undefined && !samePeriod(figures.freeCashFlow.period, operatingPeriod)) delete figures.freeCashFlow;
  const derived = deriveFreeCashFlow(best.get('operatingCashFlow'), best.get('capitalExpenditures'));
  if (!figures.freeCashFlow && derived) figures.freeCashFlow = derived;

  const headline = headlineFigures.flatMap((name) => (best.has(name) ? [best.get(name)!] : []));
  const symbols = headline.flatMap((candidate) => candidate.currencySymbols);
  const pageSymbols = headline.flatMap((candidate) => (candidate.pageCurrency ? [candidate.pageCurrency] : []));
  const currencySymbol = [...symbols, ...pageSymbols].find((symbol) => currencyCodes[symbol]);
  const period = (figures.revenue ?? headlineFigures.map((name) => figures[name]).find(Boolean))?.period;
  const segmentRevenue = extractSegmentRevenue(tables, pages, figures.revenue);
  return {
    currency: currencySymbol ? currencyCodes[currencySymbol]! : null,
    figures,
    ...(period ? { period } : {}),
    ...(segmentRevenue ? { segmentRevenue } : {}),
  };
}

/** Free cash flow = operating cash flow - capital expenditures, only when both come from the same table column. */
function deriveFreeCashFlow(operating: Candidate | undefined, capex: Candidate | undefined): KeyFigure | undefined {
  if (!operating || !capex) return undefined;
  if (operating.column.table !== capex.column.table || operating.column.index !== capex.column.index) return undefined;
  const { result } = operating;
  return {
    value: round(result.value - Math.abs(capex.result.value)),
    unit: result.unit,
    page: result.page,
    label: `${result.label} - ${capex.result.label}`,
    ...(result.period ? { period: result.period } : {}),
    derived: true,
  };
}

/** "Three months ended June 30, 2023" and "Three Months Ended June 30, 2023" name one period. */
function samePeriod(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase().replace(/\s+/g, ' ') === b.toLowerCase().replace(/\s+/g, ' ');
}

/** Sums of printed amounts keep the printed precision (no 0.1 + 0.2 artefacts). */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function checkPages(pages: readonly FilingPage[]): void {
  if (!Array.isArray(pages)) {
    throw new ToolInputError(`extractKeyFigures expects \`pages\` to be an array of { number, text }, got ${typeof pages}.`);
  }
  pages.forEach((page: Partial<FilingPage> | undefined, index) => {
    if (typeof page?.text !== 'string' || !Number.isInteger(page.number) || page.number! < 1) {
      throw new ToolInputError(
        `extractKeyFigures expects pages[${index}] to be { number: integer >= 1, text: string }, got ${JSON.stringify(page)?.slice(0, 80)}.`,
        { details: { field: `pages[${index}]` } },
      );
    }
  });
}

/** Where a line item was found decides how far it is trusted: its own statement first, a summary table last. */
function contextRank(kind: StatementSection['kind'], statement: LineItemSynonyms['statement'], selectedData: boolean): number | undefined {
  if (kind === statement) return selectedData ? 1 : 0;
  if (kind === 'none') return 2;
  if (kind === 'income' || kind === 'cashFlow' || kind === 'comprehensiveIncome') return 3;
  return undefined;
}

function tableCandidates(
  table: StatementTable,
  synonyms: Record<KeyFigureName, LineItemSynonyms>,
  selectedData: boolean,
  usd: boolean,
): Candidate[] {
  const kind = table.kind === 'other' ? 'none' : table.kind;
  const pageCurrency = table.currencySymbols[0] ?? (usd ? '$' : undefined);
  const years = headingYears(table.headerText);
  const candidates: Candidate[] = [];
  table.rows.forEach((row, rowIndex) => {
    const label = normalizeLabel(row.label);
    if (label === '') return;
    const subheading = normalizeLabel(row.section ?? '');
    for (const figure of figureNames) {
      const entry = synonyms[figure];
      const rank = contextRank(kind, entry.statement, selectedData);
      if (rank === undefined || (entry.statementOnly && kind !== entry.statement)) continue;
      if (entry.measure && row.measure !== entry.measure) continue;
      const previous = rowIndex > 0 ? normalizeLabel(table.rows[rowIndex - 1]!.label) : '';
      const direct = matchFigure(entry, label, subheading);
      const patternIndex = direct ?? matchBelowRow(entry, label, previous);
      if (patternIndex === undefined) continue;
      const column = currentPeriodColumn(years, row.values.length);
      const value = row.values[column];
      if (value === null || value === undefined || row.measure === 'percent') continue;
      const period = describePeriod(table.headerText, column, table.columns.length || row.values.length);
      candidates.push({
        figure,
        rank: rank * 100 + patternIndex,
        page: table.page,
        row: rowIndex,
        column: { table, index: column },
        currencySymbols: rowCurrency(row),
        pageCurrency,
        result: {
          value,
          unit: figure === 'dilutedEps' || figure === 'basicEps' ? 'units' : row.unit,
          page: table.page,
          label: direct === undefined ? row.label : printedLabel(entry, patternIndex, row),
          ...(period ? { period } : {}),
        },
      });
    }
  });
  return candidates;
}

/** A bare "Diluted" or "Basic" row is printed with the heading that says what it counts. */
function printedLabel(entry: LineItemSynonyms, patternIndex: number, row: TableRow): string {
  return patternIndex >= entry.patterns.length && row.section ? `${row.section}: ${row.label}` : row.label;
}

/** The currency printed on the row itself; the table's is only the fallback of the page. */
function rowCurrency(row: TableRow): string[] {
  return row.currencySymbols ?? [];
}

/** Index (after all other patterns) of the first `belowRowPatterns` rule the label and the row above it match. */
function matchBelowRow(entry: LineItemSynonyms, label: string, previous: string): number | undefined {
  const index = entry.belowRowPatterns?.findIndex((rule) => rule.previous.test(previous) && rule.label.test(label)) ?? -1;
  return index >= 0 ? 100 - entry.belowRowPatterns!.length + index : undefined;
}

/** Index of the first pattern the label matches (per-share patterns count after the plain ones), or undefined. */
function matchFigure(entry: LineItemSynonyms, label: string, subheading: string): number | undefined {
  if (entry.exclude?.some((pattern) => pattern.test(label))) return undefined;
  // "Shares used in computing earnings per share:" heads share counts, not per-share amounts.
  const underPerShare = /per (?:common )?share/.test(subheading) && !/shares used|weighted|average|number of shares|shares outstanding/.test(subheading);
  // Under a per-share heading, "Net income" is an amount per share, never the net income itself.
  if (underPerShare && !entry.perSharePatterns) return undefined;
  const direct = entry.patterns.findIndex((pattern) => pattern.test(label));
  if (direct >= 0) return direct;
  const inContext = entry.contextPatterns?.findIndex((pattern) => pattern.test(`${subheading}: ${label}`)) ?? -1;
  if (inContext >= 0) return entry.patterns.length + inContext;
  if (!underPerShare) return undefined;
  const perShare = entry.perSharePatterns?.findIndex((rule) => rule.heading.test(subheading) && rule.label.test(label)) ?? -1;
  return perShare >= 0 ? entry.patterns.length + perShare : undefined;
}
