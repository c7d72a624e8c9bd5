/**
 * EBNF for JSON numbers within bounds. XGrammar 0.1.27 gets bounded numbers wrong (with `minimum: 0, maximum: 1` it
 * accepts 1.5; with `minimum: -5, maximum: 120` on an integer it accepts 121), so bounded `number` and `integer`
 * schemas are generated here instead.
 *
 * Unbounded numbers come from here too: XGrammar allows any exponent, and `1e400` parses to Infinity, which zod
 * rejects. Our numbers have no exponent and, where the schema sets no upper bound, at most 20 integer digits: every
 * such number is finite, and a bounded repetition costs one grammar rule per digit (308 digits, the limit of a
 * double, made compiling a schema with one number ten times slower).
 *
 * The grammar is exact for integers. For fractions it is exact when the bounds are integers, and conservative
 * otherwise: a fraction is allowed when its whole integer interval lies within the bounds (with `minimum: 0.5` the
 * smallest fraction is 1.x). Fractions are written canonically: no exponent, no trailing zero (`2.5`, not `2.50`), at most 16 digits.
 */

export interface NumberBounds {
  minimum?: number;
  maximum?: number;
  /** Draft 2020-12 number, or draft-04 boolean applying to `minimum`. */
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  /** Only integers. */
  integer: boolean;
}

/** An inclusive range of non-negative integers; `high` undefined means unbounded. */
interface Span {
  low: bigint;
  high: bigint | undefined;
}

/**
 * At most 16 fraction digits (more than a double holds): unbounded, a weak model can write digits until its token
 * budget runs out and the JSON is cut.
 */
const fraction = '"." [0-9]{0,15} [1-9]';
/** Integer digits allowed where the schema gives no upper bound. */
const maxDigits = 20;

/** An EBNF expression (parenthesised) for the numbers within `bounds`, or undefined if there is none. */
export function numberRangeGrammar(bounds: NumberBounds): string | undefined {
  const [low, lowExclusive] = effectiveBound(bounds.minimum, bounds.exclusiveMinimum, Math.max);
  const [high, highExclusive] = effectiveBound(bounds.maximum, bounds.exclusiveMaximum, Math.min);
  // Integers n with low <= n <= high (or strictly): as bigint, undefined meaning unbounded.
  const integerLow = low === undefined ? undefined : lowExclusive ? floor(low) + 1n : ceil(low);
  const integerHigh = high === undefined ? undefined : highExclusive ? ceil(high) - 1n : floor(high);
  const alternatives: string[] = [];
  const positiveIntegers = span(max(0n, integerLow), integerHigh);
  if (positiveIntegers) alternatives.push(digits(positiveIntegers));
  const negativeIntegers = span(max(1n, negate(integerHigh)), negate(integerLow));
  if (negativeIntegers) alternatives.push(`"-" ${digits(negativeIntegers)}`);
  if (!bounds.integer) {
    // i.f lies strictly between i and i + 1: it is within the bounds when ceil(low) <= i and i + 1 <= floor(high).
    const positive = span(max(0n, low === undefined ? undefined : ceil(low)), minus1(high === undefined ? undefined : floor(high)));
    if (positive) alternatives.push(`${digits(positive)} ${fraction}`);
    // -(j.f) lies strictly between -(j + 1) and -j.
    const negative = span(
      max(0n, high === undefined ? undefined : ceil(-high)),
      minus1(low === undefined ? undefined : floor(-low)),
    );
    if (negative) alternatives.push(`"-" ${digits(negative)} ${fraction}`);
  }
  if (alternatives.length === 0) return undefined;
  return `(${alternatives.map((alternative) => `(${alternative})`).join(' | ')})`;
}

function effectiveBound(
  inclusive: number | undefined,
  exclusive: number | boolean | undefined,
  pick: (a: number, b: number) => number,
): [number | undefined, boolean] {
  if (exclusive === true) return [inclusive, inclusive !== undefined];
  const strict = typeof exclusive === 'number' && Number.isFinite(exclusive) ? exclusive : undefined;
  const loose = inclusive !== undefined && Number.isFinite(inclusive) ? inclusive : undefined;
  if (strict === undefined) return [loose, false];
  if (loose === undefined) return [strict, true];
  const tighter = pick(strict, loose);
  return [tighter, tighter === strict];
}

const floor = (value: number): bigint => BigInt(Math.floor(value));
const ceil = (value: number): bigint => BigInt(Math.ceil(value));
const negate = (value: bigint | undefined): bigint | undefined => (value === undefined ? undefined : -value);
const minus1 = (value: bigint | undefined): bigint | undefined => (value === undefined ? undefined : value - 1n);
const max = (a: bigint, b: bigint | undefined): bigint => (b === undefined || a > b ? a : b);

function span(low: bigint, high: bigint | undefined): Span | undefined {
  return high !== undefined && high < low ? undefined : { low, high };
}

/** Decimal digits (no leading zero) of the integers in `range`. */
function digits(range: Span): string {
  const alternatives: string[] = [];
  const lowText = range.low.toString();
  const highLength = range.high === undefined ? lowText.length : range.high.toString().length;
  for (let length = lowText.length; length <= highLength; length++) {
    const smallest = length === 1 ? 0n : 10n ** BigInt(length - 1);
    const largest = 10n ** BigInt(length) - 1n;
    const from = range.low > smallest ? range.low : smallest;
    const to = range.high !== undefined && range.high < largest ? range.high : largest;
    if (from <= to) alternatives.push(...sameLength(from.toString(), to.toString()));
  }
  // Unbounded: every integer longer than the lower bound, up to the digits a finite double has.
  if (range.high === undefined && lowText.length < maxDigits) {
    alternatives.push(`[1-9] [0-9]{${lowText.length},${maxDigits - 1}}`);
  }
  return alternatives.length === 1 ? alternatives[0]! : `(${alternatives.map((part) => `(${part})`).join(' | ')})`;
}

/** Alternatives matching the digit strings from `low` to `high`, which have the same length. */
function sameLength(low: string, high: string): string[] {
  const [first, last] = [low[0]!, high[0]!];
  if (low.length === 1) return [first === last ? `"${first}"` : `[${first}-${last}]`];
  const restLength = low.length - 1;
  const lowRest = low.slice(1);
  const highRest = high.slice(1);
  if (first === last) return sameLength(lowRest, highRest).map((tail) => `"${first}" ${group(tail)}`);
  const any = `[0-9]{${restLength}}`;
  if (/^0*$/.test(lowRest) && /^9*$/.test(highRest)) return [`[${first}-${last}] ${any}`];
  const parts = sameLength(lowRest, '9'.repeat(restLength)).map((tail) => `"${first}" ${group(tail)}`);
  const [next, previous] = [Number(first) + 1, Number(last) - 1];
  if (next <= previous) parts.push(`${next === previous ? `"${next}"` : `[${next}-${previous}]`} ${any}`);
  parts.push(...sameLength('0'.repeat(restLength), highRest).map((tail) => `"${last}" ${group(tail)}`));
  return parts;
}

function group(expression: string): string {
  return expression.includes(' ') ? `(${expression})` : expression;
}
