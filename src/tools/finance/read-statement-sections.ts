import { splitStatementRow, type StatementRow } from './split-statement-row';
import { detectStatementHeading, detectUnit, type FigureUnit, type HeadingKind } from './statement-heading';

export interface StatementLine {
  text: string;
  row: StatementRow;
  /** Set when the line is a statement heading. */
  heading?: HeadingKind;
  /** A labelled row with numbers that are not just the years of a column heading. */
  isData: boolean;
}

/** A run of lines under one statement heading ('none' before the first heading of a page). */
export interface StatementSection {
  kind: HeadingKind | 'none';
  /** First line index (inclusive). */
  start: number;
  /** Last line index (exclusive). */
  end: number;
  /** The column headings: the section's lines before its first data row, heading excluded. */
  headerText: string;
  /** The unit its heading states, when it states one. */
  unit?: FigureUnit;
}

export interface PageStatements {
  lines: StatementLine[];
  sections: StatementSection[];
}

/**
 * Split one page's text into lines and statement sections. pdf-parse keeps text in reading order, except that it
 * may put a heading below its own table (Pfizer's releases); a heading with no data rows under it claims the lines
 * above it.
 */
export function readStatementSections(text: string): PageStatements {
  const lines = readLines(text);
  const starts = lines.flatMap((line, index) => (line.heading ? [index] : []));
  const bounds = starts.map((start, order) => ({ kind: lines[start]!.heading!, start, end: starts[order + 1] ?? lines.length }));
  const sections: StatementSection[] = [];
  const first = bounds[0];
  if (first && !lines.slice(first.start, first.end).some((line) => line.isData)) first.start = 0;
  else if ((first?.start ?? lines.length) > 0) sections.push(describeSection(lines, 'none', 0, first?.start ?? lines.length));
  for (const bound of bounds) sections.push(describeSection(lines, bound.kind, bound.start, bound.end));
  return { lines, sections };
}

function readLines(text: string): StatementLine[] {
  const raw = text.split(/\r?\n/);
  const lines: StatementLine[] = [];
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
    const yearsOnly = row.values.every((value) => value !== null && Number.isInteger(value) && value >= 1900 && value <= 2100);
    lines.push({ text: current, row, ...(heading ? { heading } : {}), isData: row.values.length > 0 && row.label !== '' && !yearsOnly });
  }
  return lines;
}

function describeSection(lines: StatementLine[], kind: StatementSection['kind'], start: number, end: number): StatementSection {
  const firstData = lines.findIndex((line, index) => index >= start && index < end && line.isData);
  const header = lines.slice(start, firstData === -1 ? end : firstData).filter((line) => !line.heading);
  let unit = header.map((line) => detectUnit(line.text)).find(Boolean);
  // Statements state their unit once near the heading; when pdf-parse placed that line after the rows, use it.
  if (!unit && kind !== 'none') {
    unit = lines
      .slice(start, end)
      .filter((line) => !line.isData)
      .map((line) => detectUnit(line.text))
      .find(Boolean);
  }
  return { kind, start, end, headerText: header.map((line) => line.text).join('\n'), ...(unit ? { unit } : {}) };
}
