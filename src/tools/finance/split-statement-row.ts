import { isDecorationToken, parseAmount } from './parse-amount';

/** One line of a financial table split into its label and its numeric columns. */
export interface StatementRow {
  /** The line item as printed, without footnote markers, currency signs or a trailing colon. */
  label: string;
  /** One entry per numeric column, left to right; `null` for a column printed as `n/m` or `*`. */
  values: Array<number | null>;
  /** Which columns were printed as percentages (`12.6 %`), parallel to `values`. */
  percent: boolean[];
  /** Currency symbols printed on the line (`$`, `€` ...). */
  currencySymbols: string[];
}

// "(3)", "(a)", "(iv)", "*", superscripts, and a digit glued to the last word ("Per Share1", as poppler prints a
// superscript footnote).
const footnoteMarker = /(?:\s*\((?:\d{1,2}|[a-z]|[ivx]{1,4})\)|\s*\*+|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|(?<=[a-z]{3})\d{1,2})+$/iu;

/** Strip what decorates a printed label but is not part of the line item's name. */
export function cleanLabel(label: string): string {
  let text = label.replace(/\s+/g, ' ').trim();
  text = text.replace(/[:\s$]+$/, '').trim();
  let previous: string;
  do {
    previous = text;
    text = text.replace(footnoteMarker, '').replace(/[:\s$]+$/, '').trim();
  } while (text !== previous);
  return text;
}

/**
 * Split a line of extracted text into label and numeric columns.
 *
 * Cells are read from the right while they parse as amounts, so labels that contain numbers ("Level 2 securities")
 * keep them. pdf-parse separates table cells with tabs; when it did, the first tab cell is always label, which keeps a
 * footnote marker such as "(3)" out of the values.
 */
export function splitStatementRow(printed: string): StatementRow {
  // "( 1,234 )" is one amount, whatever spacing the extractor kept inside the parentheses.
  const line = printed.replace(/\(\s+(?=[\d$])/g, '(').replace(/(?<=\d)\s+\)/g, ')');
  const firstTab = line.indexOf('\t');
  const firstCell = firstTab >= 0 ? line.slice(0, firstTab) : '';
  // A first cell made only of amounts (a header row of years, a "$" cell) is data, not label.
  const firstCellIsLabel = firstCell.split(/\s+/).some((token) => token !== '' && !isDecorationToken(token) && parseAmount(token) === undefined);
  const labelFloor = firstCellIsLabel ? firstCell : '';
  const rest = firstCellIsLabel ? line.slice(firstTab + 1) : line;
  const tokens = rest.split(/\s+/).filter((token) => token !== '');
  const values: Array<number | null> = [];
  const percent: boolean[] = [];
  const currencySymbols: string[] = [];
  let pendingPercent = false;
  let index = tokens.length - 1;
  for (; index >= 0; index -= 1) {
    const token = tokens[index]!;
    if (isDecorationToken(token)) {
      if (token === '%') pendingPercent = true;
      else currencySymbols.push(token);
      continue;
    }
    const value = parseAmount(token);
    if (value === undefined) break;
    if (/^\$|\$$/.test(token)) currencySymbols.push('$');
    values.unshift(value);
    percent.unshift(pendingPercent || token.endsWith('%'));
    pendingPercent = false;
  }
  const labelTokens = tokens.slice(0, index + 1).join(' ');
  const label = cleanLabel(`${labelFloor} ${labelTokens}`);
  return { label, values, percent, currencySymbols };
}
