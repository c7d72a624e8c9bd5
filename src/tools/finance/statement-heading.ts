import type { StatementKind } from './line-item-synonyms';

/** What a heading line opens: one of the statements we read, or another statement that ends the previous one. */
export type HeadingKind = StatementKind | 'comprehensiveIncome' | 'balanceSheet' | 'equity';

export type FigureUnit = 'units' | 'thousands' | 'millions' | 'billions';

const subjects = [
  String.raw`income(?: \(loss\))?(?: and other information)?`,
  String.raw`(?:operations|earnings|income)(?: and comprehensive (?:income|loss|income \(loss\)))?`,
  String.raw`cash flows?`,
  String.raw`comprehensive (?:income|loss|income \(loss\))`,
  String.raw`financial (?:position|condition)`,
  String.raw`(?:changes in )?(?:stockholders|shareholders|shareowners)['’]? equity`,
  String.raw`changes in equity`,
].join('|');

const headingPattern = new RegExp(
  String.raw`^(?:(?:unaudited|condensed|consolidated|combined|interim)\s+)*` +
    String.raw`(?:statements?\s+of\s+(?:consolidated\s+)?(${subjects})|(income|cash flows?|comprehensive income|(?:stockholders|shareholders)['’]? equity)\s+statements?|(balance sheets?))` +
    String.raw`(?:\s*(?:\(\d\)|\((?:unaudited|continued|cont'd)\)|[-–—]\s*\(?(?:unaudited|continued)\)?|:|\(in [a-z ,]+\)))*$`,
  'i',
);

/**
 * Recognise a statement heading such as "CONSOLIDATED STATEMENTS OF OPERATIONS", "Unaudited Condensed Consolidated
 * Statement of Cash Flows" or "INCOME STATEMENTS". Table-of-contents lines ("... of Operations 40") and notes
 * ("Notes to consolidated statements of income") are not headings.
 */
export function detectStatementHeading(line: string): HeadingKind | undefined {
  const text = line.replace(/\s+/g, ' ').trim();
  if (text.length > 120 || /^notes?\b/i.test(text)) return undefined;
  const match = headingPattern.exec(text);
  if (!match) return undefined;
  const subject = (match[1] ?? match[2] ?? match[3] ?? '').toLowerCase();
  if (/cash flow/.test(subject)) return 'cashFlow';
  // "Statements of operations and comprehensive income" are income statements that go on to comprehensive income.
  if (/^(?:income|operations|earnings)/.test(subject)) return 'income';
  if (/comprehensive/.test(subject)) return 'comprehensiveIncome';
  if (/balance sheet|financial (?:position|condition)/.test(subject)) return 'balanceSheet';
  if (/equity|shareholders|stockholders|shareowners/.test(subject)) return 'equity';
  if (/income|operations|earnings/.test(subject)) return 'income';
  return undefined;
}

/**
 * The unit stated in a table heading: "(in millions, except per share data)", "Dollars in millions",
 * "(In Millions; unaudited)", "(millions, except per share data)", "(in 000s)". The first unit named wins, since
 * headings name the amounts' unit before the exceptions ("... except shares, which are reflected in thousands").
 */
export function detectUnit(line: string): FigureUnit | undefined {
  const match = /(?:\bin|^\(?|\(|dollars|amounts)\s*(thousands?|millions?|billions?|000s|000's)\b/i.exec(line.trim());
  if (!match) return undefined;
  const word = match[1]!.toLowerCase();
  if (word.startsWith('000')) return 'thousands';
  return (word.endsWith('s') ? word : `${word}s`) as FigureUnit;
}
