/**
 * Splits page texts into page-bounded chunks and records what the ranker needs to know about each: the page's
 * heading, which primary statement the page is (if any), how numeric the chunk is, and which periods it covers.
 */
import type { PeriodKind } from './analyze-question';
import { statements, type StatementKind } from './financial-vocabulary';
import type { PdfPage } from './read-pdf';
import { numericDensity, phraseHaystack, phraseKey, stems } from './search-text';

export interface PageChunk {
  /** Index of the chunk in the document's chunk list. */
  id: number;
  /** 1-based page number. */
  page: number;
  text: string;
  /** The first lines of the page: where statements and sections put their titles. */
  heading: string;
  /** The primary statement this page is, judged from its heading and its numbers. */
  statement?: StatementKind;
  numericDensity: number;
  /** phraseHaystack of the chunk's text, for phrase look-ups. */
  haystack: string;
  /** Four-digit years that appear in the chunk or in its page heading. */
  years: Set<string>;
  /** The stems of the label of every table row in the chunk (a line of words followed by figures), without the
   * connecting words ("of", "and", "total", "net") that every label shares. */
  rowLabels: string[][];
  /** The stems of each pair of adjacent lines: a sentence wrapped over two lines, or a table row under its header. */
  lineWindows: Array<Set<string>>;
  /** The kinds of period the chunk's text names (quarter, half, nine months, year). */
  periods: Set<PeriodKind>;
}

export interface ChunkOptions {
  /** Largest chunk, in characters. Defaults to 1500. */
  maxChars?: number;
  /** Lines repeated at the start of the next chunk of the same page, so a table row keeps its header. Defaults to 3. */
  overlapLines?: number;
  /** Non-empty lines of a page treated as its heading. Defaults to 6. */
  headingLines?: number;
}

const statementTitleKeys = statements.map((statement) => ({ kind: statement.kind, keys: statement.titles.map(phraseKey) }));

/** Statement pages are mostly numbers under a title naming the statement, near the top of the page. */
function detectStatement(heading: string, density: number): StatementKind | undefined {
  if (density < 0.2) return undefined;
  const haystack = phraseHaystack(heading);
  // "Notes to consolidated financial statements" pages quote statement names in running text, not as a title.
  if (haystack.includes(' note ')) return undefined;
  for (const { kind, keys } of statementTitleKeys) if (keys.some((key) => haystack.includes(key))) return kind;
  return undefined;
}

// A table row: a label that starts with a letter, then at least one figure ($ 1,234 / (56) / 7.8 % / —) to the line end.
const TABLE_ROW = /^([A-Za-z][^$\d]*?)\s*(?:\(?[$€£]?\s?\(?-?[\d.,]+\)?\s?%?\)?|—|-)(?:\s+(?:\(?[$€£]?\s?\(?-?[\d.,]+\)?\s?%?\)?|—|-|\*+))*\s*$/;

const labelStopWords = new Set(['of', 'and', 'the', 'to', 'in', 'for', 'on', 'by', 'from', 'net', 'total', 'other', 'less', 'at', 'a', 'or']);

function rowLabelsOf(lines: string[]): string[][] {
  const labels: string[][] = [];
  for (const line of lines) {
    const match = TABLE_ROW.exec(line);
    if (!match || !/\d/.test(line.slice(match[1].length))) continue;
    const label = stems(match[1].replace(/&/g, ' ')).filter((word) => !labelStopWords.has(word));
    if (label.length > 0) labels.push(label);
  }
  return labels;
}

function lineWindowsOf(lineStems: string[][]): Array<Set<string>> {
  if (lineStems.length === 1) return [new Set(lineStems[0])];
  return lineStems.slice(1).map((current, index) => new Set([...lineStems[index], ...current]));
}

const PERIOD_PATTERNS: Record<PeriodKind, RegExp> = {
  quarter: /\b(three months|quarter|13 weeks|12 weeks|16 weeks)\b/i,
  half: /\b(six months|first half|26 weeks|24 weeks)\b/i,
  nineMonths: /\b(nine months|39 weeks|36 weeks)\b/i,
  year: /\b(year ended|years ended|twelve months|fiscal year|full[\s-]year|year end)\b/i,
};

function periodsIn(text: string): Set<PeriodKind> {
  const periods = new Set<PeriodKind>();
  for (const [kind, pattern] of Object.entries(PERIOD_PATTERNS) as Array<[PeriodKind, RegExp]>) if (pattern.test(text)) periods.add(kind);
  return periods;
}

function yearsIn(text: string): Set<string> {
  return new Set(text.match(/\b(19|20)\d\d\b/g) ?? []);
}

/** Page-bounded chunks of about `maxChars` characters, cut at line ends. */
export function chunkPages(pages: PdfPage[], options: ChunkOptions = {}): PageChunk[] {
  const maxChars = options.maxChars ?? 1500;
  const overlapLines = options.overlapLines ?? 3;
  const headingLines = options.headingLines ?? 6;
  const chunks: PageChunk[] = [];
  for (const page of pages) {
    const lines = page.text
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .filter((line) => line.length > 0);
    if (lines.length === 0) continue;
    const heading = lines.slice(0, headingLines).join('\n');
    const pageDensity = numericDensity(page.text);
    const statement = detectStatement(heading, pageDensity);
    const headingYears = yearsIn(heading);
    // Stem each line once: the chunk's phrase haystack and its line windows are both made from these.
    const lineStems = lines.map((line) => stems(line.replace(/&/g, ' ')));
    let start = 0;
    while (start < lines.length) {
      let end = start;
      let size = 0;
      while (end < lines.length && (end === start || size + lines[end].length + 1 <= maxChars)) {
        size += lines[end].length + 1;
        end++;
      }
      const text = lines.slice(start, end).join('\n');
      chunks.push({
        id: chunks.length,
        page: page.number,
        text,
        heading,
        statement,
        numericDensity: numericDensity(text),
        haystack: ` ${lineStems.slice(start, end).flat().join(' ')} `,
        years: new Set([...yearsIn(text), ...headingYears]),
        rowLabels: rowLabelsOf(lines.slice(start, end)),
        lineWindows: lineWindowsOf(lineStems.slice(start, end)),
        periods: periodsIn(text),
      });
      if (end >= lines.length) break;
      start = Math.max(end - overlapLines, start + 1);
    }
  }
  return chunks;
}
