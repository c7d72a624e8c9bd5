/**
 * Segment revenue from a revenue table that prints each segment's row above its own sub-lines and closes with a total
 * row (Pfizer's Q2 2023 release, p3: "Global Biopharmaceuticals / Business (Biopharma)" over Primary Care, Specialty
 * Care and Oncology, then "Business Innovation", then "TOTAL REVENUES"). pdf-parse prints these rows without tabs and
 * with percent columns, which the statement rows do not read, so the lines are read here.
 *
 * Guards, so that nothing is guessed: a segment's sub-lines count only when they add up to its row in every amount
 * column; the segments must add up to the printed total; at least one segment must have sub-lines (a flat table is a
 * revenue block, read elsewhere); and the filing must say, in one sentence, that it has that many segments and name
 * each of them ("two operating segments, each led by a single manager: Biopharma, ... and Business Innovation").
 */
import { currentPeriodColumn, describePeriod, headingYears } from './describe-period';
import type { SegmentRevenue } from './extract-segment-revenue';
import { detectUnit } from './statement-heading';

interface AmountLine {
  label: string;
  /** Amounts in print order; percent cells dropped, dashes as 0. */
  amounts: number[];
  /** What each printed cell is, as the total line prints them. */
  kinds: ReadonlyArray<'amount' | 'percent'>;
}

/** Segment counts as filings spell them ("three reportable segments"); shared with the segment-columns reader. */
export const countWords: Record<string, number> = { two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8 };
const countSentence = /\b(two|three|four|five|six|seven|eight) (?:reportable |operating )segments\b([^]{0,400})/gi;
const totalRevenue = /^total (?:net )?revenues?$/i;
const percentCell = /^\(?-?[\d,.]+%\)?$|^\*$/;
const amountCell = /^\(?[\d,]+\)?$/;
const maxWrapLength = 40;

/** The revenue per segment of the first such table in page order, or undefined. */
export function nestedSegmentRevenue(pages: ReadonlyArray<{ number: number; text: string }>): SegmentRevenue[] | undefined {
  const sentences = pages.flatMap((page) => [...page.text.replace(/\s+/g, ' ').matchAll(countSentence)]);
  if (sentences.length === 0) return undefined;
  for (const page of pages) {
    if (!/\bsegments?\b/i.test(page.text)) continue;
    const lines = page.text.split('\n').map((text) => text.replace(/\s+/g, ' ').trim());
    for (let at = 0; at < lines.length; at += 1) {
      const total = amountLine(lines[at]!);
      if (!total || !totalRevenue.test(total.label)) continue;
      const found = readAbove(lines, at, total, page.number, sentences);
      if (found) return found;
    }
  }
  return undefined;
}

function readAbove(lines: string[], at: number, total: AmountLine, page: number, sentences: RegExpMatchArray[]): SegmentRevenue[] | undefined {
  const width = total.amounts.length;
  let first = at;
  while (first > 0 && amountLine(lines[first - 1]!, total.kinds)) first -= 1;
  const rows = lines.slice(first, at).map((line) => amountLine(line, total.kinds)!);
  if (rows.length < 2) return undefined;
  let headerEnd = first;
  // A segment name wrapped over two lines: its first half is the short line right above the first row.
  const wrap = lines[first - 1];
  if (wrap && wrap.length <= maxWrapLength && !/\d/.test(wrap) && !/:$/.test(wrap) && !/^(?:revenues?|net sales)$/i.test(wrap)) {
    rows[0] = { ...rows[0]!, label: `${wrap} ${rows[0]!.label}` };
    headerEnd -= 1;
  }
  const segments: AmountLine[] = [];
  let nested = false;
  for (let index = 0; index < rows.length; ) {
    const segment = rows[index]!;
    let end = index + 1;
    // The longest run of following rows that adds up to this row in every column is its sub-lines.
    for (let last = rows.length; last > index + 1; last -= 1) {
      if (addsUp(rows.slice(index + 1, last), segment)) {
        end = last;
        nested = true;
        break;
      }
    }
    segments.push(segment);
    index = end;
  }
  if (!nested || segments.length < 2 || !addsUp(segments, total)) return undefined;
  const names = segments.map((segment) => segment.label.replace(/(?:\(\d+\)|\([a-z]\))+$/, '').trim());
  if (!namedInSentence(names, sentences)) return undefined;
  const header = lines.slice(Math.max(0, headerEnd - 6), headerEnd).join('\n');
  const column = currentPeriodColumn(headingYears(header), width);
  const unit = detectUnit(header);
  if (!unit) return undefined;
  const period = describePeriod(header, column, width);
  return segments.map((segment, index) => ({
    segment: names[index]!,
    value: segment.amounts[column]!,
    unit,
    page,
    ...(period ? { period } : {}),
    label: names[index]!,
  }));
}

/** "Business Innovation $ 316 $ 317 — — $ 626 $ 655 (4%) (3%)" → label and cells ("$" dropped); undefined for other lines. */
function cellLine(line: string): { label: string; cells: string[] } | undefined {
  const tokens = line.split(' ');
  let start = tokens.length;
  while (start > 0 && (tokens[start - 1] === '$' || tokens[start - 1] === '—' || percentCell.test(tokens[start - 1]!) || amountCell.test(tokens[start - 1]!))) start -= 1;
  const label = tokens.slice(0, start).join(' ');
  const cells = tokens.slice(start).filter((token) => token !== '$');
  if (label === '' || cells.length === 0 || /\d$/.test(label)) return undefined;
  return { label, cells };
}

/**
 * The line's amounts, in the columns where the total line prints amounts: a dash is a zero amount in those and an
 * empty change in the percent columns ("—" under "% Change"). Undefined when the line's cells do not fit them.
 */
function amountLine(line: string, kinds?: ReadonlyArray<'amount' | 'percent'>): AmountLine | undefined {
  const read = cellLine(line);
  if (!read) return undefined;
  const columns = kinds ?? read.cells.map((cell) => (percentCell.test(cell) ? 'percent' : 'amount'));
  if (read.cells.length !== columns.length) return undefined;
  const amounts: number[] = [];
  for (const [index, cell] of read.cells.entries()) {
    if (columns[index] === 'percent') {
      if (cell !== '—' && !percentCell.test(cell)) return undefined;
    } else if (cell === '—') amounts.push(0);
    else if (amountCell.test(cell)) amounts.push((cell.startsWith('(') ? -1 : 1) * Number(cell.replace(/[(),]/g, '')));
    else return undefined;
  }
  return amounts.length > 0 ? { label: read.label, amounts, kinds: columns } : undefined;
}

/** Printed amounts are rounded: parts may miss their printed total by a unit. */
function addsUp(parts: AmountLine[], whole: AmountLine): boolean {
  return whole.amounts.every((value, column) => Math.abs(parts.reduce((sum, part) => sum + (part.amounts[column] ?? Number.NaN), 0) - value) <= 1);
}

/** A sentence says the filing has exactly this many segments and names each (in full, or by its short name in parentheses). */
function namedInSentence(names: string[], sentences: RegExpMatchArray[]): boolean {
  return sentences.some((match) => {
    if (countWords[match[1]!.toLowerCase()] !== names.length) return false;
    const text = match[2]!.toLowerCase();
    return names.every((name) => {
      const short = /\(([^)]+)\)$/.exec(name)?.[1];
      return text.includes(name.toLowerCase()) || (short !== undefined && new RegExp(`\\b${short.toLowerCase()}\\b`).test(text));
    });
  });
}
