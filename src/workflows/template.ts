/**
 * `${{ expression }}` templates inside step arguments, agent specs and workflow outputs. A string that is exactly
 * one template keeps the expression's type (a number stays a number, an object stays an object); a string with
 * text around its templates becomes a string with each value interpolated.
 */
import { evaluateExpression, parseExpression } from './expression';

/**
 * Every `${{ ... }}` in a string, by a linear scan: the lazy regex this replaces rescanned the rest of the text for
 * each unclosed `${{` (200,000 of them: 50 s on the event loop).
 */
function findTemplates(text: string): Array<{ start: number; end: number; expression: string }> {
  const found: Array<{ start: number; end: number; expression: string }> = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf('${{', from);
    if (open === -1) break;
    const close = text.indexOf('}}', open + 3);
    if (close === -1) break;
    found.push({ start: open, end: close + 2, expression: text.slice(open + 3, close) });
    from = close + 2;
  }
  return found;
}

const wholeTemplatePattern = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;

export interface TemplateOccurrence {
  /** The expression inside `${{ }}`. */
  expression: string;
  /** Where the string sits inside the value, e.g. `["with", "path"]`. */
  path: Array<string | number>;
}

/** Every template expression in a JSON-like value, with where it was found. */
export function collectTemplates(value: unknown, path: Array<string | number> = []): TemplateOccurrence[] {
  if (typeof value === 'string') {
    return findTemplates(value).map((match) => ({ expression: match.expression.trim(), path }));
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => collectTemplates(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => collectTemplates(item, [...path, key]));
  }
  return [];
}

function interpolate(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Resolves every template in a JSON-like value against `scope`; values without templates are returned as they are. */
export function resolveTemplates(value: unknown, scope: unknown): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return value;
    const templates = findTemplates(value);
    if (templates.length === 0) return value;
    const [first] = templates;
    if (templates.length === 1 && value.slice(0, first.start).trim() === '' && value.slice(first.end).trim() === '') {
      return evaluateExpression(parseExpression(first.expression.trim()), scope);
    }
    let text = '';
    let at = 0;
    for (const template of templates) {
      text += value.slice(at, template.start) + interpolate(evaluateExpression(parseExpression(template.expression.trim()), scope));
      at = template.end;
    }
    return text + value.slice(at);
  }
  if (Array.isArray(value)) return value.map((item) => resolveTemplates(item, scope));
  if (value !== null && typeof value === 'object') {
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const result = resolveTemplates(item, scope);
      if (result !== undefined) resolved[key] = result;
    }
    return resolved;
  }
  return value;
}

/** The expression of an `if` field: `${{ expr }}` or a bare `expr`. */
export function conditionExpression(condition: string): string {
  const whole = wholeTemplatePattern.exec(condition);
  return (whole === null ? condition : whole[1]).trim();
}
