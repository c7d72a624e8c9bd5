/**
 * The small expression language of `${{ }}` references and `if` conditions, parsed by hand so that a workflow file
 * can never run code: paths (`inputs.x`, `steps.id.output.a.b[0]`), literals (numbers, 'strings', "strings", true,
 * false, null), comparisons (== != < <= > >=), `&&`, `||`, `!` and parentheses. Nothing else.
 */

import { WorkflowRunError } from '../errors';

export type PathSegment = string | number;

export type Expression =
  | { kind: 'literal'; value: unknown }
  | { kind: 'path'; segments: PathSegment[]; source: string }
  | { kind: 'not'; operand: Expression }
  | { kind: 'logical'; operator: '&&' | '||'; left: Expression; right: Expression }
  | { kind: 'compare'; operator: '==' | '!=' | '<' | '<=' | '>' | '>='; left: Expression; right: Expression };

/** A syntax error in an expression; `position` is the character offset in the expression source. */
export class ExpressionSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
  }
}

type Token =
  | { type: 'number' | 'string'; value: number | string; position: number }
  | { type: 'identifier'; value: string; position: number }
  | { type: 'operator'; value: string; position: number }
  | { type: 'end'; value: ''; position: number };

const operators = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', '.'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i))!;
      tokens.push({ type: 'number', value: Number(match[0]), position: start });
      i += match[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\' && i + 1 < source.length) i++;
        value += source[i++];
      }
      if (i >= source.length) throw new ExpressionSyntaxError(`unterminated string starting at character ${start + 1}`, start);
      i++;
      tokens.push({ type: 'string', value, position: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      // `-` is allowed inside identifiers (step ids like `extract-text`); there is no subtraction to confuse it with.
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i))!;
      tokens.push({ type: 'identifier', value: match[0], position: start });
      i += match[0].length;
      continue;
    }
    const operator = operators.find((op) => source.startsWith(op, i));
    if (operator === undefined) {
      throw new ExpressionSyntaxError(`unexpected character "${c}" at character ${i + 1}`, i);
    }
    tokens.push({ type: 'operator', value: operator, position: start });
    i += operator.length;
  }
  tokens.push({ type: 'end', value: '', position: source.length });
  return tokens;
}

/** Deepest nesting of `(` and `!` accepted: far beyond any real condition, far below the stack's limit. */
const maxDepth = 64;
/** Longest expression accepted (characters): bounds tokenizing and parsing time. */
const maxExpressionLength = 4096;

class Parser {
  #tokens: Token[];
  #index = 0;
  #depth = 0;

  constructor(readonly source: string) {
    if (source.length > maxExpressionLength) {
      throw new ExpressionSyntaxError(`the expression is ${source.length} characters long; the limit is ${maxExpressionLength}`, maxExpressionLength);
    }
    this.#tokens = tokenize(source);
  }

  /** Parses a nested part, refusing nesting deeper than maxDepth (20,000 `(` would otherwise overflow the stack). */
  #nested<T>(token: Token, parse: () => T): T {
    if (++this.#depth > maxDepth) {
      throw new ExpressionSyntaxError(`the expression nests "(" and "!" more than ${maxDepth} deep at character ${token.position + 1}; simplify it`, token.position);
    }
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  parse(): Expression {
    if (this.#peek().type === 'end') throw new ExpressionSyntaxError('empty expression', 0);
    const expression = this.#or();
    const rest = this.#peek();
    if (rest.type !== 'end') this.#fail(rest, 'an operator or the end of the expression');
    return expression;
  }

  #peek(): Token {
    return this.#tokens[this.#index];
  }

  #next(): Token {
    return this.#tokens[this.#index++];
  }

  #isOperator(value: string): boolean {
    const token = this.#peek();
    return token.type === 'operator' && token.value === value;
  }

  #fail(token: Token, expected: string): never {
    const found = token.type === 'end' ? 'the end' : `"${token.value}"`;
    throw new ExpressionSyntaxError(`expected ${expected} at character ${token.position + 1}, found ${found}`, token.position);
  }

  #or(): Expression {
    let left = this.#and();
    while (this.#isOperator('||')) {
      this.#next();
      left = { kind: 'logical', operator: '||', left, right: this.#and() };
    }
    return left;
  }

  #and(): Expression {
    let left = this.#compare();
    while (this.#isOperator('&&')) {
      this.#next();
      left = { kind: 'logical', operator: '&&', left, right: this.#compare() };
    }
    return left;
  }

  #compare(): Expression {
    const left = this.#unary();
    const token = this.#peek();
    if (token.type === 'operator' && ['==', '!=', '<', '<=', '>', '>='].includes(token.value)) {
      this.#next();
      const operator = token.value as '==' | '!=' | '<' | '<=' | '>' | '>=';
      return { kind: 'compare', operator, left, right: this.#unary() };
    }
    return left;
  }

  #unary(): Expression {
    if (this.#isOperator('!')) {
      const token = this.#next();
      return { kind: 'not', operand: this.#nested(token, () => this.#unary()) };
    }
    return this.#primary();
  }

  #primary(): Expression {
    const token = this.#next();
    if (token.type === 'number' || token.type === 'string') return { kind: 'literal', value: token.value };
    if (token.type === 'operator' && token.value === '(') {
      const inner = this.#nested(token, () => this.#or());
      if (!this.#isOperator(')')) this.#fail(this.#peek(), '")"');
      this.#next();
      return inner;
    }
    if (token.type === 'identifier') {
      if (token.value === 'true') return { kind: 'literal', value: true };
      if (token.value === 'false') return { kind: 'literal', value: false };
      if (token.value === 'null') return { kind: 'literal', value: null };
      return this.#path(token);
    }
    this.#fail(token, 'a value (a path, number, string, true, false or null)');
  }

  #path(first: Token & { type: 'identifier' }): Expression {
    const segments: PathSegment[] = [first.value];
    for (;;) {
      if (this.#isOperator('.')) {
        this.#next();
        const name = this.#next();
        if (name.type !== 'identifier') this.#fail(name, 'a field name after "."');
        segments.push(name.value);
      } else if (this.#isOperator('[')) {
        this.#next();
        const key = this.#next();
        if (key.type === 'number' && Number.isInteger(key.value)) segments.push(key.value);
        else if (key.type === 'string') segments.push(key.value);
        else this.#fail(key, 'an integer index or a quoted key inside "[ ]"');
        if (!this.#isOperator(']')) this.#fail(this.#peek(), '"]"');
        this.#next();
      } else {
        break;
      }
    }
    const source = this.source.slice(first.position, this.#peek().position).trim();
    return { kind: 'path', segments, source };
  }
}

const cache = new Map<string, Expression>();

/** Parses an expression (without the `${{ }}`); throws ExpressionSyntaxError. Parsed expressions are cached. */
export function parseExpression(source: string): Expression {
  let expression = cache.get(source);
  if (expression === undefined) {
    expression = new Parser(source).parse();
    if (cache.size > 10_000) cache.clear();
    cache.set(source, expression);
  }
  return expression;
}

/** Every path an expression reads. */
export function expressionPaths(expression: Expression): Array<Extract<Expression, { kind: 'path' }>> {
  switch (expression.kind) {
    case 'literal':
      return [];
    case 'path':
      return [expression];
    case 'not':
      return expressionPaths(expression.operand);
    default:
      return [...expressionPaths(expression.left), ...expressionPaths(expression.right)];
  }
}

/** Reads a path from a scope object; a missing field anywhere yields `undefined`, never an exception. */
export function readPath(scope: unknown, segments: readonly PathSegment[]): unknown {
  let value = scope;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/**
 * Reads a reference during a run. `inputs.<name>` and `steps.<id>.<field>` are checked when the workflow loads and
 * may be absent at run time (an optional input, a step without output or error); a field read inside a value that
 * exists but lacks it (`steps.a.output.totl`) is a WorkflowRunError naming the reference, never a silent undefined.
 */
function readReference(scope: unknown, expression: Extract<Expression, { kind: 'path' }>): unknown {
  const { segments } = expression;
  const checkedFrom = segments[0] === 'steps' ? 3 : 2;
  let value = scope;
  for (let index = 0; index < segments.length; index++) {
    if (value === null || value === undefined) return undefined;
    const segment = segments[index];
    if (Object.prototype.hasOwnProperty.call(value, segment)) {
      value = (value as Record<string | number, unknown>)[segment];
      continue;
    }
    if (index < checkedFrom) return undefined;
    const read = expression.source.length > 0 ? expression.source : segments.join('.');
    const within = segments.slice(0, index).join('.');
    const has =
      Array.isArray(value) ? `a list of ${value.length}` : typeof value === 'object' ? `fields: ${Object.keys(value).slice(0, 20).join(', ') || 'none'}` : `a ${typeof value}`;
    throw new WorkflowRunError(`Reference "${read}" does not exist: ${within} has no ${typeof segment === 'number' ? `item ${segment}` : `field "${segment}"`} (it is ${has}). Check the spelling, or the step's output.`, {
      details: { reference: read, missing: segment, at: within },
    });
  }
  return value;
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  if (operator === '==') return left === right || (left == null && right == null);
  if (operator === '!=') return !(left === right || (left == null && right == null));
  // Ordering only between two numbers or two strings: `'10' > 9` is false rather than a coercion surprise.
  const comparable = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return false;
  const a = left as number | string;
  const b = right as number | string;
  switch (operator) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** Evaluates an expression against `scope` (`{ inputs, steps }`). */
export function evaluateExpression(expression: Expression, scope: unknown): unknown {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'path':
      return readReference(scope, expression);
    case 'not':
      return !truthy(evaluateExpression(expression.operand, scope));
    case 'logical': {
      const left = evaluateExpression(expression.left, scope);
      if (expression.operator === '&&') return truthy(left) ? evaluateExpression(expression.right, scope) : left;
      return truthy(left) ? left : evaluateExpression(expression.right, scope);
    }
    case 'compare':
      return compare(expression.operator, evaluateExpression(expression.left, scope), evaluateExpression(expression.right, scope));
  }
}

/** Truthiness as in YAML-minded users expect it: empty strings, 0, null, undefined, false and empty arrays are false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}
