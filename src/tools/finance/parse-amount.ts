/**
 * One cell of a financial table as printed: `1,234`, `$ 1,234`, `(1,234)`, `(0.16)`, `—`, `12.6 %`, `n/m`.
 *
 * - a number: the value, negative when printed in parentheses or with a leading minus;
 * - `null`: a cell that holds no number but still takes a column (`n/m`, `*`, `NM`);
 * - `undefined`: not a table cell at all (a word of the label, a date).
 *
 * Dashes of any kind (`—`, `–`, `-`) are the printed zero of financial statements.
 */
export function parseAmount(token: string): number | null | undefined {
  const cell = token.trim().replace(/^\$|\$$/g, '').trim();
  if (cell === '') return undefined;
  if (/^[—–―-]{1,3}%?$/.test(cell)) return 0;
  if (/^(n\/m|nm|n\/a|\*+)$/i.test(cell)) return null;
  const match = /^(\()?\$?\s*([-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\))?\s*%?$/.exec(cell);
  if (!match) return undefined;
  const [, open, minus, whole, fraction, close] = match;
  // An unbalanced parenthesis is a label fragment such as "(3" of a wrapped footnote, not an amount.
  if (Boolean(open) !== Boolean(close)) return undefined;
  const magnitude = Number(`${whole!.replace(/,/g, '')}${fraction ?? ''}`);
  return open || minus ? -magnitude : magnitude;
}

/** True for a token that is a currency symbol or percent sign printed as its own cell. */
export function isDecorationToken(token: string): boolean {
  return /^(\$|US\$|€|£|¥|%)$/.test(token);
}
