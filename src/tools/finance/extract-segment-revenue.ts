/**
 * Segment revenue from the segment tables a filing prints, read from the same `readFilingTables` rows (and, for
 * unlabelled subtotals, the same page lines) as the other key figures. Layouts read:
 *
 * - a revenue block: a "Revenue" / "Net sales by reportable segment" subheading over one row per segment and a
 *   "Total" row (Microsoft's note 19, Apple's MD&A); a segment in it may be its name over product lines and an
 *   unlabelled subtotal (Intel's Client Computing);
 * - segment blocks: each segment's name as a subheading over its "Net sales" / "Revenues" row, usually closed by a
 *   "Consolidated" or "Total" block (Amazon's note 10, Apple's note 10);
 * - segment columns: one column per segment the filing names in a sentence ("The Company has three reportable
 *   segments: Domestic streaming, International streaming and Domestic DVD."), in that order in the column headings,
 *   then a "Consolidated" or "Total" column, read from the "Revenues" row (Netflix 2016's note 11); or named as "the
 *   following operating segments: A; B; ... and F." with "Corporate" and "Eliminations" columns before "Consolidated",
 *   read from each segment's "Total net operating revenues" row (Coca-Cola 2020's note 19).
 *
 * A table counts only when its headings, or the sentence right above them, say "segment" (segment columns: print the
 * named segments), and only when its segment values add up to the total it prints (or, when it prints none, to the
 * filing's revenue), within one printed unit; when none does, a segment printed above its own sub-lines (Pfizer's
 * Biopharma) is read by `nestedSegmentRevenue`. Other tables are not read: no segment revenue rather than a guess.
 */
import { currentPeriodColumn, describePeriod, headingYears } from './describe-period';
import type { StatementTable, TableRow } from './read-statement-tables';
import { countWords, nestedSegmentRevenue } from './nested-segment-revenue';
import { readStatementSections } from './read-statement-sections';
import { detectUnit, type FigureUnit } from './statement-heading';

export interface SegmentRevenue {
  /** The segment as the filing names it, e.g. "North America", "Intelligent Cloud", "Greater China". */
  segment: string;
  value: number;
  unit: FigureUnit;
  /** 1-based page of the segment table. */
  page: number;
  /** The column heading the value came from, when the table names one. */
  period?: string;
  /** The row as printed: the segment's name, or "<segment>: Net sales" in segment blocks. */
  label: string;
}

/** The filing's revenue figure, the fallback total and the preferred period. */
export interface RevenueReference {
  value: number;
  unit: FigureUnit;
  period?: string;
}

const segmentWord = /\bsegments?\b/i;
const revenueBlockHeading = /^(?:(?:total |net )?(?:sales|revenues?|net operating revenues?)(?: by (?:reportable |operating )?segments?)?|(?:operating )?segment (?:net )?(?:sales|revenues?))$/i;
const revenueRow = /^(?:net sales|(?:net |total )?revenues?|(?:total )?net operating revenues|total net sales)$/i;
const totalLabel = /^(?:total|consolidated)\b/i;
/** Rows that split revenue by source, not by segment (Coca-Cola's "Third party" and "Intersegment" per segment column). */
const revenueSource = /\b(?:third[- ]party|inter-?segment|external customers?)\b/i;
const maxHeadingLength = 60;
/** A long line with this many lower-case words is a sentence, not a heading ("(In Millions) Dec 31, 2022 Dec 25, ..."). */
const proseWords = 5;

interface Found {
  segments: SegmentRevenue[];
  total: number;
}

/**
 * The current period's revenue per operating segment, from the first segment table (in page order, preferring the
 * revenue figure's period) whose segments add up to its total; undefined when the filing prints none that does.
 */
export function extractSegmentRevenue(
  tables: readonly StatementTable[],
  pages: ReadonlyArray<{ number: number; text: string }>,
  revenue: RevenueReference | undefined,
): SegmentRevenue[] | undefined {
  const pageText = new Map(pages.map((page) => [page.number, page.text]));
  const named = namedSegments(pages);
  const found: Found[] = [];
  for (const table of tables) {
    const text = pageText.get(table.page) ?? '';
    // A page of notes right after a statement reads as its continuation, so the table's kind is not checked here.
    if (!segmentWord.test(text)) continue;
    for (const block of [...revenueBlocks(table), ...groupedRevenueBlocks(table, text), ...segmentBlocks(table)]) {
      const read = readBlock(table, text, block, revenue);
      if (read) found.push(read);
    }
    if (named) found.push(...segmentColumns(table, text, named, revenue));
  }
  const samePeriod = (entry: Found) => revenue?.period !== undefined && entry.segments[0]!.period?.toLowerCase() === revenue.period.toLowerCase();
  return (found.find(samePeriod) ?? found[0])?.segments ?? nestedSegmentRevenue(pages);
}

/** A block of rows: the segments' names and rows, and the total row (or none). */
interface Block {
  names: string[];
  rows: TableRow[];
  labels: string[];
  total?: TableRow;
  /** The block's first printed row, when it is not `rows[0]` (a subtotal row prints no label). */
  anchor?: TableRow;
}

/** "Revenue:" over one row per segment, then "Total". */
function revenueBlocks(table: StatementTable): Block[] {
  const blocks: Block[] = [];
  let index = 0;
  while (index < table.rows.length) {
    const section = table.rows[index]!.section;
    let end = index;
    while (end < table.rows.length && table.rows[end]!.section === section) end += 1;
    if (section !== undefined && revenueBlockHeading.test(section)) {
      const rows = table.rows.slice(index, end);
      const totalAt = rows.findIndex((row) => totalLabel.test(row.label));
      const segments = rows.slice(0, totalAt === -1 ? rows.length : totalAt);
      if (totalAt > 1 && segments.every((row) => row.measure === 'amount' && !revenueSource.test(row.label))) {
        blocks.push({ names: segments.map((row) => row.label), rows: segments, labels: segments.map((row) => row.label), total: rows[totalAt]! });
      }
    }
    index = end;
  }
  return blocks;
}

/**
 * A revenue block where a segment is printed as its name over product lines and an unlabelled subtotal (Intel's
 * "Client Computing" over Desktop, Notebook, Other and 6,625). The table rows drop unlabelled lines, so this reads the
 * page's lines; a group counts only when its subtotal equals the sum of its lines in every column.
 */
function groupedRevenueBlocks(table: StatementTable, pageText: string): Block[] {
  const { lines } = readStatementSections(pageText);
  const blocks: Block[] = [];
  const rowOf = (label: string, values: Array<number | null>): TableRow =>
    table.rows.find((row) => row.label === label && sameValues(row.values, values)) ?? { label, values, measure: 'amount', unit: table.unit };
  for (let start = 0; start < lines.length; start += 1) {
    const heading = lines[start]!.row;
    if (lines[start]!.isData || heading.values.length > 0 || !revenueBlockHeading.test(heading.label)) continue;
    const block: Block = { names: [], rows: [], labels: [] };
    let group: { name: string; rows: TableRow[] } | undefined;
    let grouped = false;
    for (let index = start + 1; index < lines.length; index += 1) {
      const { row, isData } = lines[index]!;
      if (isData) {
        const tableRow = rowOf(row.label, row.values);
        block.anchor ??= tableRow;
        if (totalLabel.test(row.label)) {
          if (!group) block.total = tableRow;
          break;
        }
        if (revenueSource.test(row.label)) break;
        if (group) group.rows.push(tableRow);
        else {
          block.names.push(row.label);
          block.labels.push(row.label);
          block.rows.push(tableRow);
        }
      } else if (row.label === '' && row.values.length > 0 && group && group.rows.length > 1) {
        const sums = row.values.map((_, column) => group!.rows.reduce((sum, line) => sum + (line.values[column] ?? Number.NaN), 0));
        if (!sums.every((sum, column) => Math.abs(sum - (row.values[column] ?? Number.NaN)) <= 1)) break;
        block.names.push(group.name);
        block.labels.push(group.name);
        block.rows.push({ ...group.rows[0]!, label: group.name, values: row.values });
        group = undefined;
        grouped = true;
      } else if (row.label !== '' && row.values.length === 0 && !group) group = { name: row.label, rows: [] };
      else if (row.label !== '' || row.values.length > 0) break;
    }
    if (grouped && block.total && !group && block.names.length > 1) blocks.push(block);
  }
  return blocks;
}

/** "North America" over "Net sales", "International" over "Net sales" ..., then "Consolidated" over "Net sales". */
function segmentBlocks(table: StatementTable): Block[] {
  const names: string[] = [];
  const rows: TableRow[] = [];
  let total: TableRow | undefined;
  let seen: string | undefined;
  for (const row of table.rows) {
    if (row.section === undefined || row.section === seen || !revenueRow.test(row.label) || row.measure !== 'amount') continue;
    seen = row.section;
    if (totalLabel.test(row.section)) {
      total = row;
      break;
    }
    names.push(row.section);
    rows.push(row);
  }
  if (names.length < 2) return [];
  return [{ names, rows, labels: rows.map((row) => `${row.section}: ${row.label}`), ...(total ? { total } : {}) }];
}

const namingSentence = /\b(?:has|have|into|of)\s+(two|three|four|five|six|seven|eight)\s+(?:reportable |operating )?segments?[:,]?\s+([^.]{3,200})\./i;
/** "... consists of the following operating segments: A; B; C and D." (Coca-Cola's note 19): no count, names split by semicolons. */
const followingSentence = /\bthe following (?:reportable |operating )?segments:\s+([^.]{3,300});([^.;]{3,120})\./i;

/** The segments a filing names in a sentence, in its order: "... three reportable segments: A, B and C." */
function namedSegments(pages: ReadonlyArray<{ text: string }>): string[] | undefined {
  for (const page of pages) {
    const text = page.text.replace(/\s+/g, ' ');
    const match = namingSentence.exec(text);
    if (match) {
      const names = match[2]!
        .split(/\s*,\s*(?:and\s+)?|\s+and\s+/)
        .map((name) => name.replace(/\s*\(.*$/, '').trim())
        .filter(Boolean);
      if (names.length === countWords[match[1]!.toLowerCase()]) return names;
    }
    const following = followingSentence.exec(text);
    if (following) {
      // Names may hold commas and "and" ("Europe, Middle East and Africa"): only the last piece splits on "and".
      const last = following[2]!.trim().replace(/^and\s+/i, '').split(/\s+and\s+/);
      const names = [...following[1]!.split(/\s*;\s*/), ...last].map((name) => name.trim()).filter(Boolean);
      if (names.length > 1) return names;
    }
  }
  return undefined;
}

/**
 * Columns between the last segment and the consolidated one that reconcile segments to the total (Coca-Cola's
 * "Corporate" and "Eliminations"): they count in the sum that must match the total, and are not segments.
 */
const reconcilingColumn = /^(?:corporate(?: and other)?|(?:intersegment )?eliminations|other)\s*/;

/**
 * "Revenues" rows (or each segment's "Total net operating revenues") with one column per named segment, any
 * reconciling columns, then the consolidated column, under headings naming them in order.
 */
function segmentColumns(table: StatementTable, pageText: string, names: string[], revenue: RevenueReference | undefined): Found[] {
  const found: Found[] = [];
  const normal = (text: string) => text.replace(/\s+/g, ' ').replace(/&/g, 'and').toLowerCase();
  const order = new RegExp(`${names.map((name) => escape(normal(name))).join('.*')}(.*?)\\b(?:consolidated|total)\\b`);
  for (const row of table.rows) {
    if (!revenueRow.test(row.label) || row.measure !== 'amount' || row.values.length < names.length + 1) continue;
    const { header } = headerAbove(pageText, row, { overRows: true });
    const match = order.exec(normal(header));
    if (!match) continue;
    let between = match[1]!.trim();
    let reconciling = 0;
    for (let next = reconcilingColumn.exec(between); between !== '' && next; next = reconcilingColumn.exec(between)) {
      between = between.slice(next[0].length);
      reconciling += 1;
    }
    // Other text between the last segment and the total is a heading the columns do not hold (as before this rule).
    if (between !== '') reconciling = 0;
    if (row.values.length !== names.length + reconciling + 1) continue;
    const values = row.values.slice(0, names.length);
    const parts = row.values.slice(0, names.length + reconciling);
    const total = row.values[names.length + reconciling];
    if (parts.some((value) => value === null) || typeof total !== 'number') continue;
    if (Math.abs((parts as number[]).reduce((a, b) => a + b, 0) - total) > 1) continue;
    const printed = describePeriod(header, 0, 1);
    // A bare year over the rows ("2020") is the fiscal year the filing's revenue figure names ("Year Ended December 31, 2020").
    const period = printed && /^\d{4}$/.test(printed) && revenue?.period?.endsWith(printed) ? revenue.period : printed;
    const unit = detectUnit(header) ?? row.unit;
    found.push({
      total,
      segments: names.map((segment, index) => ({
        segment,
        value: values[index]!,
        unit,
        page: table.page,
        ...(period ? { period } : {}),
        label: `${segment}: ${row.label}`,
      })),
    });
  }
  return found;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
}

function readBlock(table: StatementTable, pageText: string, block: Block, revenue: RevenueReference | undefined): Found | undefined {
  const { header, intro } = headerAbove(pageText, block.anchor ?? block.rows[0]!);
  // The table itself says it is by segment: its headings or the sentence that introduces it.
  if (!segmentWord.test(`${intro}\n${header}`)) return undefined;
  const years = headingYears(header);
  const width = block.rows[0]!.values.length;
  const column = currentPeriodColumn(years, width);
  if (block.rows.some((row) => row.values.length !== width)) return undefined;
  const values = block.rows.map((row) => row.values[column]);
  if (values.some((value) => value === null || value === undefined)) return undefined;
  const sum = (values as number[]).reduce((a, b) => a + b, 0);
  const unit = detectUnit(header) ?? block.rows[0]!.unit;
  const total = block.total?.values.length === width ? block.total.values[column] : undefined;
  const reference = typeof total === 'number' ? total : revenue?.unit === unit ? revenue.value : undefined;
  // Printed amounts are rounded: segments may miss their printed total by a unit.
  if (reference === undefined || Math.abs(sum - reference) > 1) return undefined;
  const period = describePeriod(header, column, width);
  return {
    total: reference,
    segments: block.names.map((segment, index) => ({
      segment,
      value: values[index]!,
      unit,
      page: table.page,
      ...(period ? { period } : {}),
      label: block.labels[index]!,
    })),
  };
}

/**
 * The column headings of the table the row opens: the short lines between the data row above it and the row itself
 * (a page holds several tables, each with its own headings, while the reader keeps one heading per page).
 */
function headerAbove(pageText: string, row: TableRow, options: { overRows?: boolean } = {}): { header: string; intro: string } {
  const { lines } = readStatementSections(pageText);
  let at = lines.findIndex((line) => line.isData && line.row.label === row.label && sameValues(line.row.values, row.values));
  // The headings of a table whose row is not its first ("Revenues" below "Total memberships") are above its first row.
  while (options.overRows && at > 0 && lines[at - 1]!.isData) at -= 1;
  const header: string[] = [];
  let intro = '';
  for (let index = at - 1; at !== -1 && index >= 0 && !lines[index]!.isData; index -= 1) {
    const text = lines[index]!.text.replace(/\s+/g, ' ').trim();
    // The sentence that introduces the table may state its unit ("... as follows (in millions):"), never its periods.
    if (text.length > maxHeadingLength && (text.match(/\b[a-z]{2,}\b/g) ?? []).length >= proseWords) {
      intro = text;
      const unit = detectUnit(text);
      if (unit) header.unshift(`(in ${unit})`);
      break;
    }
    header.unshift(lines[index]!.text);
  }
  return { header: header.join('\n'), intro };
}

function sameValues(a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
