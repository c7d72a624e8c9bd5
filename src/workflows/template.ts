/**
 * `${{ expression }}` templates inside step arguments, agent specs and workflow outputs. A string that is exactly
 * one template keeps the expression's type (a number stays a number, an object stays an object); a string with
 * text around its templates becomes a string with each value interpolated.
 */
import { evaluateExpression, parseExpression } from './expression';

const templatePattern = /\$\{\{([\s\S]*?)\}\}/g;
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
    return [...value.matchAll(templatePattern)].map((match) => ({ expression: match[1].trim(), path }));
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
    const whole = wholeTemplatePattern.exec(value);
    if (whole !== null && !whole[1].includes('}}')) return evaluateExpression(parseExpression(whole[1].trim()), scope);
    return value.replace(templatePattern, (_, source: string) => interpolate(evaluateExpression(parseExpression(source.trim()), scope)));
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
