/**
 * Turns a zod schema or a JSON Schema into the JSON Schema we hand XGrammar: zod 4's `z.toJSONSchema` in `input`
 * mode (the JSON that `schema.parse` accepts), without the keywords that only describe the document (`$schema`).
 */
import { z } from 'zod';
import { GenerationError } from '../../errors';
import { assertNotZod3 } from '../../zod-version';
import type { JsonSchema } from '../language-model';
import { numberRangeGrammar } from './number-range-grammar';

/** A zod schema as produced by zod 4 (classic or mini): it carries `_zod`. */
function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** Keywords that describe the schema document and change nothing in what JSON is valid. */
const documentKeywords = ['$schema', '$id', '$comment'];

/** The JSON Schema of `schema` (zod or JSON Schema), ready for XGrammar. `where` names it in error messages. */
export function toGrammarJsonSchema(schema: JsonSchema | z.ZodType, where: string): JsonSchema {
  assertNotZod3(schema, where);
  let json: unknown = schema;
  if (isZodSchema(schema)) {
    try {
      json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
    } catch (error) {
      throw new GenerationError(
        `${where}: the zod schema cannot be expressed as JSON Schema (${(error as Error).message}). ` +
          'Use JSON-representable types (no z.date(), z.bigint(), transforms into non-JSON values).',
        { cause: error, details: { where } },
      );
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new GenerationError(`${where}: expected a JSON Schema object or a zod schema, got ${describe(schema)}.`, {
      details: { where },
    });
  }
  const result: JsonSchema = { ...(json as JsonSchema) };
  for (const keyword of documentKeywords) delete result[keyword];
  return result;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** A JSON Schema whose bounded numbers were replaced by placeholders, and the EBNF each placeholder stands for. */
export interface PreparedJsonSchema {
  schema: JsonSchema;
  /** Placeholder string (a `const` in `schema`) -> EBNF expression of the bounded number. */
  numberRanges: Map<string, string>;
}

const boundKeywords = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;
/** Keywords whose values are data, not subschemas. */
const dataKeywords = new Set(['const', 'enum', 'default', 'examples', 'required', 'pattern', 'format', 'type']);
/** Keywords whose values map names to subschemas (a property may be called "type" or "const"). */
const schemaMaps = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/**
 * Swaps every `number` / `integer` subschema (without `const` / `enum`) for a `const` placeholder (see
 * number-range-grammar.ts for why); the caller replaces the placeholder's literal in XGrammar's EBNF by our grammar.
 */
export function extractNumberRanges(schema: JsonSchema, where: string): PreparedJsonSchema {
  const numberRanges = new Map<string, string>();
  const visitMap = (node: unknown, path: string): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value, `${path}/${key}`)]));
  };
  const visit = (node: unknown, path: string): unknown => {
    if (Array.isArray(node)) return node.map((item, index) => visit(item, `${path}/${index}`));
    if (typeof node !== 'object' || node === null) return node;
    const object = node as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object)) {
      if (schemaMaps.has(key)) copy[key] = visitMap(value, `${path}/${key}`);
      else copy[key] = dataKeywords.has(key) ? value : visit(value, `${path}/${key}`);
    }
    const types = Array.isArray(copy.type) ? (copy.type as unknown[]) : [copy.type];
    const numeric = types.find((type) => type === 'number' || type === 'integer') as string | undefined;
    if (!numeric || 'const' in copy || 'enum' in copy) return copy;
    const grammar = numberRangeGrammar({
      minimum: copy.minimum as number | undefined,
      maximum: copy.maximum as number | undefined,
      exclusiveMinimum: copy.exclusiveMinimum as number | boolean | undefined,
      exclusiveMaximum: copy.exclusiveMaximum as number | boolean | undefined,
      integer: !types.includes('number'),
    });
    if (grammar === undefined) {
      throw new GenerationError(`${where}: the bounds at ${path || '/'} admit no ${numeric}; fix the schema.`, {
        details: { where, path },
      });
    }
    const placeholder = `__autoglm_number_range_${numberRanges.size}__`;
    numberRanges.set(placeholder, grammar);
    const others = types.filter((type) => type !== 'number' && type !== 'integer');
    if (others.length === 0) return { const: placeholder };
    const rest: Record<string, unknown> = { ...copy, type: others.length === 1 ? others[0] : others };
    for (const keyword of [...boundKeywords, 'multipleOf']) delete rest[keyword];
    return { anyOf: [{ const: placeholder }, rest] };
  };
  return { schema: visit(schema, '') as JsonSchema, numberRanges };
}

/** The numbers of untyped JSON values (`basic_any`: z.any(), record values), replaced in XGrammar's EBNF. */
const basicRules: Record<string, string> = {
  basic_number: numberRangeGrammar({ integer: false })!,
  basic_integer: numberRangeGrammar({ integer: true })!,
};

/** Puts our number grammars in place of the placeholders' literals and of XGrammar's own number rules. */
export function insertNumberRanges(ebnf: string, numberRanges: Map<string, string>, where: string): string {
  let result = ebnf
    .split('\n')
    .map((line) => {
      const name = line.slice(0, line.indexOf(' ::= '));
      return Object.hasOwn(basicRules, name) ? `${name} ::= ${basicRules[name]}` : line;
    })
    .join('\n');
  for (const [placeholder, grammar] of numberRanges) {
    const literal = `"\\"${placeholder}\\""`;
    if (!result.includes(literal)) {
      throw new GenerationError(`${where}: internal error, XGrammar's EBNF lost the number range ${placeholder}.`, {
        details: { where },
      });
    }
    result = result.split(literal).join(grammar);
  }
  return result;
}
