import { currentPeriodColumn, describePeriod, headingYears } from './describe-period';
import {
  defaultLineItemSynonyms,
  normalizeLabel,
  type KeyFigureName,
  type LineItemSynonyms,
} from './line-item-synonyms';
import { readStatementSections, type StatementSection } from './read-statement-sections';
import { detectUnit, type FigureUnit } from './statement-heading';
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

interface Candidate {
  figure: KeyFigureName;
  rank: number;
  page: number;
  line: number;
  result: KeyFigure;
  currencySymbols: string[];
  /** The currency symbol most amounts on the page carry, for rows printed without one. */
  pageCurrency: string | undefined;
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
  checkPages(pages);
  const synonyms = { ...defaultLineItemSynonyms, ...options.synonyms };
  const candidates: Candidate[] = [];
  for (const page of pages) candidates.push(...pageCandidates(page, synonyms));

  const figures: Partial<Record<KeyFigureName, KeyFigure>> = {};
  const symbols: string[] = [];
  const pageSymbols: string[] = [];
  for (const figure of figureNames) {
    const best = candidates
      .filter((candidate) => candidate.figure === figure)
      .sort((a, b) => a.rank - b.rank || a.page - b.page || a.line - b.line)[0];
    if (!best) continue;
    figures[figure] = best.result;
    symbols.push(...best.currencySymbols);
    if (best.pageCurrency) pageSymbols.push(best.pageCurrency);
  }
  const currencySymbol = [...symbols, ...pageSymbols].find((symbol) => currencyCodes[symbol]);
  const period = (figures.revenue ?? figureNames.map((name) => figures[name]).find(Boolean))?.period;
  return { currency: currencySymbol ? currencyCodes[currencySymbol]! : null, figures, ...(period ? { period } : {}) };
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

function pageCandidates(page: FilingPage, synonyms: Record<KeyFigureName, LineItemSynonyms>): Candidate[] {
  const { lines, sections } = readStatementSections(page.text);
  const selectedData = selectedDataPage.test(page.text);
  const pageCurrency =
    lines.flatMap((line) => (line.isData ? line.row.currencySymbols : []))[0] ?? (/\bU\.?S\.? dollars\b|\bUSD\b/i.test(page.text) ? '$' : undefined);
  const candidates: Candidate[] = [];
  let pageUnit: FigureUnit | undefined;
  for (const section of sections) {
    const years = headingYears(section.headerText);
    // The last line without numbers above a row ("Earnings per share:"), which some rows need to be understood.
    let subheading = { printed: '', normalized: '' };
    let unit = section.unit ?? pageUnit;
    for (let index = section.start; index < section.end; index += 1) {
      const line = lines[index]!;
      if (!line.isData) {
        const stated = detectUnit(line.text);
        if (stated && index > section.start) unit = stated;
        if (stated) pageUnit = stated;
        if (!stated && line.row.label !== '' && line.row.values.length === 0) {
          subheading = { printed: line.row.label, normalized: normalizeLabel(line.row.label) };
        }
        continue;
      }
      const label = normalizeLabel(line.row.label);
      if (label === '') continue;
      for (const figure of figureNames) {
        const entry = synonyms[figure];
        const rank = contextRank(section.kind, entry.statement, selectedData);
        if (rank === undefined) continue;
        const patternIndex = matchFigure(entry, label, subheading.normalized);
        if (patternIndex === undefined) continue;
        const column = currentPeriodColumn(years, line.row.values.length);
        const value = line.row.values[column];
        if (value === null || value === undefined || line.row.percent[column]) continue;
        const period = describePeriod(section.headerText, column);
        // A bare "Diluted" row is printed with the heading that makes it a per-share amount.
        const printed = patternIndex >= entry.patterns.length ? `${subheading.printed}: ${line.row.label}` : line.row.label;
        candidates.push({
          figure,
          rank: rank * 100 + patternIndex,
          page: page.number,
          line: index,
          currencySymbols: line.row.currencySymbols,
          pageCurrency,
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
