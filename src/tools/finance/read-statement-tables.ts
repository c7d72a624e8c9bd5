/**
 * Financial statement tables from page text: one table per statement heading on a page (and, for callers that ask,
 * one per run of numeric rows before any heading), with period columns, the stated unit and signed numeric cells.
 *
 * pdf-parse prints one table row per line with its cells separated by tabs (`Net income \t$ \t19,881 $ \t19,442`),
 * so rows are read from the text; `splitStatementRow` takes the numeric cells from the right, parentheses as
 * negatives and dashes as zero. The column headings are the section's lines above its first row.
 */
import { describePeriod, headingYears } from './describe-period';
import type { FigureMeasure } from './line-item-synonyms';
import { readStatementSections, type StatementSection } from './read-statement-sections';
import { detectUnit, type FigureUnit } from './statement-heading';

export type StatementTableKind = 'income' | 'comprehensiveIncome' | 'balanceSheet' | 'cashFlow' | 'equity';

/** What a row's numbers count: money in the table's unit, money per share (in currency units), shares, or percents. */
export type RowMeasure = FigureMeasure;

export interface TableColumn {
  /** The column's period from the headings, e.g. "Three Months Ended July 1, 2023" or "December 31, 2020". */
  period?: string;
  /** A change column between periods ("% Incr./(Decr.)", "Inc/(Dec) $"), not a period of its own. */
  change?: true;
}

export interface TableRow {
  /** The line item as printed, without footnote markers or currency signs. */
  label: string;
  /** The last label-only line above the row ("Earnings per share:", "Current assets:"), when there is one. */
  section?: string;
  /**
   * One cell per numeric column, left to right, signed: `(1,234)` is -1234, a dash is 0, `n/m` is null. A row printed
   * with fewer cells than the table has columns keeps only the cells it prints.
   */
  values: Array<number | null>;
  measure: RowMeasure;
  /** Currency symbols printed on the row (`$`, `€` ...), when it prints any. */
  currencySymbols?: string[];
  /** The unit of the row's values: the table's for amounts, its share unit for shares, 'units' per share. */
  unit: FigureUnit;
}

export interface StatementTable {
  /** 1-based page number. */
  page: number;
  /** The statement the heading names; 'other' for numeric rows before any heading (only with `includeUnheaded`). */
  kind: StatementTableKind | 'other';
  /** The heading as printed ("CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)"), empty for 'other'. */
  title: string;
  /** The unit the heading states for amounts, or 'units' when it states none. */
  unit: FigureUnit;
  /** Whether the heading stated the unit (`unit` is then not a default). */
  unitStated: boolean;
  /** Currency symbols printed in the table, most frequent first. */
  currencySymbols: string[];
  /** The columns, as many as most rows print numbers. */
  columns: TableColumn[];
  rows: TableRow[];
  /** The column headings as printed (the lines between the heading and the first row). */
  headerText: string;
  /** Set when the table has no heading of its own but continues the previous page's statement (its kind and title). */
  continued?: boolean;
}

export interface ReadStatementTablesOptions {
  /** Also return the numeric rows of a page before any statement heading, as kind 'other'. Defaults to false. */
  includeUnheaded?: boolean;
}

/** Share of a continuation's rows that must print exactly the previous table's column count. */
const continuationRowShare = 0.8;
const continuationMinRows = 3;
/** Share of the page's lines before its first heading that must be rows (the rest: page headers, subheadings). */
const continuationDataShare = 0.5;

/**
 * Read the statement tables of a filing's pages (ascending page numbers). A statement that runs onto the next page
 * without repeating its heading (eBay's balance sheet: liabilities on page 8) continues there when the next page
 * starts with at least 3 rows, 80% of which print the previous table's column count, and rows make up at least half
 * of its lines before any heading (a page of notes does not); those rows get its kind, title,
 * unit and periods and are marked `continued`.
 */
export function readFilingTables(pages: ReadonlyArray<{ number: number; text: string }>, options: ReadStatementTablesOptions = {}): StatementTable[] {
  const tables: StatementTable[] = [];
  let previous: StatementTable | undefined;
  for (const page of pages) {
    const pageTables = readStatementTables(page, { includeUnheaded: true });
    const first = pageTables[0];
    const continuing = previous && previous.kind !== 'other' && previous.page === page.number - 1 ? previous : undefined;
    if (first?.kind === 'other' && continuing && continues(continuing, first, page.text)) {
      const previous = continuing;
      pageTables[0] = {
        ...first,
        kind: previous.kind,
        title: previous.title,
        unit: first.unitStated ? first.unit : previous.unit,
        unitStated: first.unitStated || previous.unitStated,
        columns: previous.columns,
        headerText: previous.headerText,
        rows: first.rows.map((row) => (row.measure === 'amount' && !first.unitStated ? { ...row, unit: previous.unit } : row)),
        continued: true,
      };
    }
    previous = pageTables.at(-1);
    tables.push(...pageTables.filter((table) => table.kind !== 'other' || options.includeUnheaded));
  }
  return tables;
}

function continues(previous: StatementTable, next: StatementTable, pageText: string): boolean {
  const width = previous.columns.length;
  const matching = next.rows.filter((row) => row.values.length === width).length;
  if (width === 0 || next.rows.length < continuationMinRows || matching < continuationRowShare * next.rows.length) return false;
  // A page of notes also has rows of numbers, between paragraphs: a continued statement is mostly rows.
  const { lines, sections } = readStatementSections(pageText);
  const section = sections[0]!;
  const printed = lines.slice(section.start, section.end).filter((line) => line.text.trim() !== '');
  return printed.filter((line) => line.isData).length >= continuationDataShare * printed.length;
}

const perShareLabel = /\bper (?:common |ordinary |diluted |basic )?(?:share|unit)\b|\beps\b/i;
const shareCountLabel = /^(?:(?:weighted[- ])?average|number of|shares used|(?:basic|diluted) (?:weighted[- ])?average)\b.*\bshares?\b|\bshares (?:outstanding|used)\b|^weighted[- ]average\b|^dilutive effect\b/i;
/** Column heading lines ("Three Months Ended", "March 31,", "2023") are not subheadings of rows. */
const columnHeading = /\b(?:19|20)\d{2}\b|\bended\b|\b(?:months|weeks|quarters?)\b|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\bunaudited\b|^\(?in (?:millions|thousands)/i;
/** Longer lines above an unheaded table are prose, not column headings. */
const maxColumnHeadingLength = 60;
/** Headings of change columns: "% Incr. / (Decr.)", "Inc/(Dec) $ %", "% Change". */
const changeHeading = /%|\bchange\b|\bincr|\bdecr|\binc\s*\/|\(dec\)/i;
const shareCountHeading = /shares used|weighted[- ]average|average (?:common )?shares|number of shares|shares outstanding/i;

/** Read the statement tables of one page. */
export function readStatementTables(page: { number: number; text: string }, options: ReadStatementTablesOptions = {}): StatementTable[] {
  const { lines, sections } = readStatementSections(page.text);
  const tables: StatementTable[] = [];
  let pageUnit: FigureUnit | undefined;
  for (const section of sections) {
    if (section.kind === 'none' && !options.includeUnheaded) {
      pageUnit = lines.slice(section.start, section.end).map((line) => detectUnit(line.text)).find(Boolean) ?? pageUnit;
      continue;
    }
    const table = readSection(page.number, lines, section, pageUnit);
    pageUnit = table.unitStated ? table.unit : pageUnit;
    if (table.rows.length > 0) tables.push(table);
  }
  return tables;
}

function readSection(
  page: number,
  lines: ReturnType<typeof readStatementSections>['lines'],
  section: StatementSection,
  pageUnit: FigureUnit | undefined,
): StatementTable {
  const stated = section.unit ?? pageUnit;
  const unit = stated ?? 'units';
  const shareUnit = detectShareUnit(section.headerText) ?? detectShareUnit(lines[section.start]?.text ?? '') ?? unit;
  const rows: TableRow[] = [];
  const symbols = new Map<string, number>();
  let subheading: string | undefined;
  let rowUnit = unit;
  let shareRowUnit = shareUnit;
  for (let index = section.start; index < section.end; index += 1) {
    const line = lines[index]!;
    if (line.heading) continue;
    if (!line.isData) {
      // A unit line inside the table ("(in thousands)" above a block of rows) applies to the rows below it; one that
      // names share counts ("Shares used in calculation (000s):") is their subheading and sets their unit only.
      const inside = detectUnit(line.text);
      const isSubheading = line.row.label !== '' && line.row.values.length === 0 && !columnHeading.test(line.row.label);
      if (inside && isSubheading && /\bshares\b/i.test(line.row.label)) {
        subheading = line.row.label;
        shareRowUnit = inside;
      } else if (inside && rows.length > 0) rowUnit = inside;
      else if (!inside && isSubheading) subheading = line.row.label;
      continue;
    }
    for (const symbol of line.row.currencySymbols) symbols.set(symbol, (symbols.get(symbol) ?? 0) + 1);
    const measure = rowMeasure(line.row.label, subheading, line.row.percent, section.kind);
    rows.push({
      label: line.row.label,
      ...(subheading ? { section: subheading } : {}),
      values: line.row.values,
      measure,
      ...(line.row.currencySymbols.length > 0 ? { currencySymbols: line.row.currencySymbols } : {}),
      unit: measure === 'perShare' || measure === 'percent' ? 'units' : measure === 'shares' ? shareRowUnit : rowUnit,
    });
  }
  const columnCount = modalLength(rows.filter((row) => row.measure !== 'percent').map((row) => row.values.length));
  const columns = describeColumns(section.headerText, columnCount);
  return {
    page,
    kind: section.kind === 'none' ? 'other' : section.kind,
    title: section.kind === 'none' ? '' : lines[section.start]!.text.replace(/\s+/g, ' ').trim(),
    unit,
    unitStated: stated !== undefined,
    currencySymbols: [...symbols.entries()].sort((a, b) => b[1] - a[1]).map(([symbol]) => symbol),
    columns,
    rows,
    headerText: section.kind === 'none' ? columnHeadingLines(section.headerText) : section.headerText,
  };
}

/** Above a table outside any statement, only the short lines right above its rows head its columns, not the prose. */
function columnHeadingLines(headerText: string): string {
  const lines = headerText.split('\n');
  let first = lines.length;
  while (first > 0 && lines[first - 1]!.replace(/\s+/g, ' ').trim().length <= maxColumnHeadingLength) first -= 1;
  return lines.slice(first).join('\n');
}

/**
 * Share counts are the weighted-average (or outstanding) shares of an income statement: a label that says so, or a
 * bare "Basic"/"Diluted" under a heading that does ("Shares used in computing earnings per share:"). A balance-sheet
 * line that mentions shares ("Common stock, $0.01 par value; 5,000 shares authorized") is an amount.
 */
function rowMeasure(label: string, subheading: string | undefined, percent: boolean[], kind: StatementSection['kind']): RowMeasure {
  if (percent.length > 0 && percent.every(Boolean)) return 'percent';
  if (perShareLabel.test(label)) return 'perShare';
  const statementOfIncome = kind === 'income' || kind === 'none';
  if (statementOfIncome && shareCountLabel.test(label)) return 'shares';
  if (subheading !== undefined && statementOfIncome && shareCountHeading.test(subheading) && /^(?:basic|diluted|total)\b/i.test(label)) return 'shares';
  if (subheading !== undefined && perShareLabel.test(subheading) && !/\bshares\b|dilutive effect/i.test(label)) return 'perShare';
  return 'amount';
}

/**
 * The columns' periods. When the headings print fewer years than there are columns and name a change ("% Incr.",
 * "Inc/(Dec)", "Change"), each group of years (a group ends where the years go up again: 2023 2022 | 2023 2022) is
 * followed by an equal share of change columns.
 */
function describeColumns(headerText: string, columnCount: number): TableColumn[] {
  const years = headingYears(headerText);
  const changes = columnCount - years.length;
  if (years.length > 0 && changes > 0 && changeHeading.test(headerText)) {
    const groups: number[][] = [];
    years.forEach((year, index) => {
      if (index === 0 || year > years[index - 1]!) groups.push([]);
      groups.at(-1)!.push(index);
    });
    if (changes % groups.length === 0) {
      const columns: TableColumn[] = [];
      for (const group of groups) {
        for (const yearIndex of group) {
          const period = describePeriod(headerText, yearIndex, years.length);
          columns.push(period ? { period } : {});
        }
        for (let change = 0; change < changes / groups.length; change += 1) columns.push({ change: true });
      }
      return columns;
    }
  }
  return Array.from({ length: columnCount }, (_, column) => {
    const period = describePeriod(headerText, column, columnCount);
    return period ? { period } : {};
  });
}

/** "(In millions, except number of shares which are reflected in thousands ...)": the unit of share counts. */
function detectShareUnit(text: string): FigureUnit | undefined {
  const match = /shares[^.)]*?\b(?:in|reflected in)\s+(thousands|millions|billions)\b/i.exec(text);
  return match ? (match[1]!.toLowerCase() as FigureUnit) : undefined;
}

function modalLength(lengths: number[]): number {
  const counts = new Map<number, number>();
  for (const length of lengths) counts.set(length, (counts.get(length) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [length, count] of counts) {
    if (count > bestCount || (count === bestCount && length > best)) [best, bestCount] = [length, count];
  }
  return best;
}
