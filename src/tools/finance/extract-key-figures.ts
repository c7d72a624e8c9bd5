import { currentPeriodColumn, describePeriod, headingYears } from './describe-period';
import {
  defaultLineItemSynonyms,
  normalizeLabel,
  type KeyFigureName,
  type LineItemSynonyms,
} from './line-item-synonyms';
import { splitStatementRow, type StatementRow } from './split-statement-row';
import { detectStatementHeading, detectUnit, type FigureUnit, type HeadingKind } from './statement-heading';

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
}

export interface KeyFigures {
  /** ISO 4217 code of the currency printed beside the amounts, or null when none is printed. */
  currency: string | null;
  figures: Partial<Record<KeyFigureName, KeyFigure>>;
  /** The period of the revenue figure (else of the first figure found). */
  period?: string;
}

export interface ExtractKeyFiguresOptions {
  /**
   * Line-item synonyms per figure, merged over the built-in ones (a figure given here replaces its built-in entry).
   * Defaults to `defaultLineItemSynonyms`.
   */
  synonyms?: Partial<Record<KeyFigureName, LineItemSynonyms>>;
}

interface Line {
  text: string;
  row: StatementRow;
  heading?: HeadingKind;
  /** A row with numbers that are not all years of a column heading. */
  isData: boolean;
}

interface Section {
  kind: HeadingKind | 'none';
  start: number;
  end: number;
  headerText: string;
  unit?: FigureUnit;
}

interface Candidate {
  figure: KeyFigureName;
  rank: number;
  page: number;
  line: number;
  result: KeyFigure;
  currencySymbols: string[];
}

const currencyCodes: Record<string, string> = { $: 'USD', US$: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };
const figureNames: KeyFigureName[] = ['revenue', 'netIncome', 'operatingIncome', 'operatingCashFlow', 'dilutedEps'];
const selectedDataPage = /selected (?:consolidated )?financial data|financial highlights/i;

/**
 * Find the headline figures (revenue, net income, operating income, operating cash flow, diluted EPS) in the text of
 * a filing's pages. Deterministic: statement headings set the context and the unit, synonyms (data) name the line
 * items, and the current period column is read from each row. Figures on the statement they belong to win over the
 * same line item in a summary table or another statement.
 */
export function extractKeyFigures(pages: readonly FilingPage[], options: ExtractKeyFiguresOptions = {}): KeyFigures {
  const synonyms = { ...defaultLineItemSynonyms, ...options.synonyms };
  const candidates: Candidate[] = [];
  for (const page of pages) candidates.push(...pageCandidates(page, synonyms));

  const figures: Partial<Record<KeyFigureName, KeyFigure>> = {};
  const symbols: string[] = [];
  for (const figure of figureNames) {
    const best = candidates
      .filter((candidate) => candidate.figure === figure)
      .sort((a, b) => a.rank - b.rank || a.page - b.page || a.line - b.line)[0];
    if (!best) continue;
    figures[figure] = best.result;
    symbols.push(...best.currencySymbols);
  }
  const currencySymbol = symbols.find((symbol) => currencyCodes[symbol]);
  const period = (figures.revenue ?? figureNames.map((name) => figures[name]).find(Boolean))?.period;
  return { currency: currencySymbol ? currencyCodes[currencySymbol]! : null, figures, ...(period ? { period } : {}) };
}

function readLines(text: string): Line[] {
  const raw = text.split(/\r?\n/);
  const lines: Line[] = [];
  for (let index = 0; index < raw.length; index += 1) {
    let current = raw[index]!;
    let row = splitStatementRow(current);
    // A line item wrapped over two lines: the first has no numbers, the second continues in lower case.
    while (row.values.length === 0 && row.label !== '' && index + 1 < raw.length && /^\s*[a-z]/.test(raw[index + 1]!)) {
      current = `${current.trimEnd()} ${raw[index + 1]!.trimStart()}`;
      index += 1;
      row = splitStatementRow(current);
    }
    const heading = row.values.length === 0 ? detectStatementHeading(current) : undefined;
    const isYearsOnly = row.values.every((value) => value !== null && Number.isInteger(value) && value >= 1900 && value <= 2100);
    lines.push({ text: current, row, ...(heading ? { heading } : {}), isData: row.values.length > 0 && row.label !== '' && !isYearsOnly });
  }
  return lines;
}

function readSections(lines: Line[]): Section[] {
  const starts = lines.flatMap((line, index) => (line.heading ? [index] : []));
  const sections: Section[] = [];
  const firstStart = starts[0] ?? lines.length;
  const bounds = starts.map((start, order) => ({ start, end: starts[order + 1] ?? lines.length }));
  const firstHasData = bounds[0] ? lines.slice(bounds[0].start, bounds[0].end).some((line) => line.isData) : true;
  // A heading printed below its own table (pdf-parse puts Pfizer's at the foot of the page) claims the lines above it.
  if (!firstHasData) bounds[0]!.start = 0;
  else if (firstStart > 0) sections.push(describeSection(lines, 'none', 0, firstStart));
  for (const bound of bounds) {
    sections.push(describeSection(lines, lines[starts[bounds.indexOf(bound)]!]!.heading!, bound.start, bound.end));
  }
  return sections;
}

function describeSection(lines: Line[], kind: HeadingKind | 'none', start: number, end: number): Section {
  const firstData = lines.findIndex((line, index) => index >= start && index < end && line.isData);
  const headerEnd = firstData === -1 ? end : firstData;
  const header = lines.slice(start, headerEnd).filter((line) => !line.heading);
  let unit = header.map((line) => detectUnit(line.text)).find(Boolean);
  if (!unit) {
    unit = lines
      .slice(start, end)
      .filter((line) => !line.isData)
      .map((line) => detectUnit(line.text))
      .find(Boolean);
  }
  return { kind, start, end, headerText: header.map((line) => line.text).join('\n'), ...(unit ? { unit } : {}) };
}

function contextRank(kind: Section['kind'], statement: LineItemSynonyms['statement'], selectedData: boolean): number | undefined {
  if (kind === statement) return selectedData ? 1 : 0;
  if (kind === 'none') return 2;
  if (kind === 'income' || kind === 'cashFlow' || kind === 'comprehensiveIncome') return 3;
  return undefined;
}

function pageCandidates(page: FilingPage, synonyms: Record<KeyFigureName, LineItemSynonyms>): Candidate[] {
  const lines = readLines(page.text);
  const selectedData = selectedDataPage.test(page.text);
  const candidates: Candidate[] = [];
  let pageUnit: FigureUnit | undefined;
  for (const section of readSections(lines)) {
    const years = headingYears(section.headerText);
    let subheading = '';
    let unit = section.unit ?? pageUnit;
    for (let index = section.start; index < section.end; index += 1) {
      const line = lines[index]!;
      if (!line.isData) {
        const stated = detectUnit(line.text);
        if (stated && index > section.start) unit = stated;
        if (stated) pageUnit = stated;
        if (!stated && line.row.label !== '' && line.row.values.length === 0) subheading = normalizeLabel(line.row.label);
        continue;
      }
      const label = normalizeLabel(line.row.label);
      if (label === '') continue;
      for (const figure of figureNames) {
        const entry = synonyms[figure];
        const rank = contextRank(section.kind, entry.statement, selectedData);
        if (rank === undefined) continue;
        const patternIndex = matchFigure(entry, label, subheading);
        if (patternIndex === undefined) continue;
        const column = currentPeriodColumn(years, line.row.values.length);
        const value = line.row.values[column];
        if (value === null || value === undefined || line.row.percent[column]) continue;
        const period = describePeriod(section.headerText, column);
        const printed = subheading && entry.perSharePatterns && patternIndex >= entry.patterns.length
          ? `${lines.slice(section.start, index).reverse().find((candidate) => !candidate.isData && candidate.row.label !== '')?.row.label ?? ''}: ${line.row.label}`
          : line.row.label;
        candidates.push({
          figure,
          rank: rank * 100 + patternIndex,
          page: page.number,
          line: index,
          currencySymbols: line.row.currencySymbols,
          result: {
            value,
            unit: figure === 'dilutedEps' ? 'units' : (unit ?? 'units'),
            page: page.number,
            label: printed,
            ...(period ? { period } : {}),
          },
        });
      }
    }
  }
  return candidates;
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
  if (!underPerShare) return undefined;
  const perShare = entry.perSharePatterns?.findIndex((rule) => rule.heading.test(subheading) && rule.label.test(label)) ?? -1;
  return perShare >= 0 ? entry.patterns.length + perShare : undefined;
}
