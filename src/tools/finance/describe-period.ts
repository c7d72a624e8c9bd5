const month = String.raw`(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`;
const datePattern = new RegExp(String.raw`\b${month}\s+\d{1,2},?\s+(?:19|20)\d{2}\b`, 'gi');
const spanPattern = new RegExp(
  String.raw`\b(?:(?:three|six|nine|twelve|thirteen|fifty-two|fifty-three|\d{1,2})[- ](?:months|weeks)|(?:fiscal )?years?|quarters?|(?:first|second|third|fourth)[- ]quarter)(?:\s+ended(?:\s+(${month}\s+\d{1,2}),?)?|(?=\s*%|\s*$|\s+(?:19|20)\d{2}\b|\s+(?:three|six|nine|twelve|first|second|third|fourth|fiscal|years?|quarters?)\b))`,
  'i',
);
const quarterPattern = /\b(?:first|second|third|fourth)[- ]quarter\b/i;
const yearPattern = /\b(?:19|20)\d{2}\b/g;

/** The years printed in a table's column headings, left to right. */
export function headingYears(headerText: string): number[] {
  return [...headerText.matchAll(yearPattern)].map((match) => Number(match[0]));
}

/**
 * Which numeric column holds the current period. SEC statements print it first; some (Amazon's 10-K) print the
 * years oldest first, so when the latest year is not the first heading and the headings line up one-to-one with the
 * row's columns, the latest year's column is taken.
 */
export function currentPeriodColumn(years: number[], columnCount: number): number {
  if (years.length < 2) return 0;
  const latest = Math.max(...years);
  const index = years.indexOf(latest);
  return index > 0 && years.length === columnCount ? index : 0;
}

/**
 * A readable name of a column's period from the table's heading lines, e.g. "Year Ended December 31, 2020" or
 * "Three Months Ended July 1, 2023". Undefined when the headings name no period.
 */
export function describePeriod(headerText: string, column: number, columnCount?: number): string | undefined {
  const text = headerText.replace(/\s+/g, ' ');
  const years = headingYears(text);
  // "Three Months Ended ... Nine Months Ended ...": with the column count, each span heads its own equal group.
  const spans = [...text.matchAll(new RegExp(spanPattern.source, 'gi'))];
  const group = columnCount !== undefined && spans.length > 1 && columnCount % spans.length === 0 ? Math.floor(column / (columnCount / spans.length)) : 0;
  const span = spans[Math.min(group, spans.length - 1)] ?? null;
  const dates = [...text.matchAll(datePattern)].map((match) => match[0].replace(/,?\s+(\d{4})$/, ', $1'));
  if (span) {
    const spanWords = span[0].replace(/\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec).*$/i, '');
    if (dates.length > 1 && dates.length === years.length && dates[column]) return `${spanWords} ${dates[column]}`;
    const year = years[column] ?? years[0];
    if (year === undefined) return span[0].trim();
    return span[1] ? `${spanWords} ${span[1]}, ${year}` : `${spanWords} ${year}`;
  }
  const quarter = quarterPattern.exec(text);
  if (quarter) {
    const year = years[column] ?? years[0];
    return year === undefined ? quarter[0] : `${quarter[0]} ${year}`;
  }
  if (dates.length === years.length && dates[column]) return dates[column];
  return years[column] === undefined ? undefined : String(years[column]);
}
