/**
 * Turns a zod schema or a JSON Schema into the JSON Schema we hand XGrammar: zod 4's `z.toJSONSchema` in `input`
 * mode (the JSON that `schema.parse` accepts), without the keywords that only describe the document (`$schema`).
 */
import { z } from 'zod';
import { GenerationError } from '../../errors';
import type { JsonSchema } from '../language-model';

/** A zod schema as produced by zod 4 (classic or mini): it carries `_zod`. */
function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** Keywords that describe the schema document and change nothing in what JSON is valid. */
const documentKeywords = ['$schema', '$id', '$comment'];

/** The JSON Schema of `schema` (zod or JSON Schema), ready for XGrammar. `where` names it in error messages. */
export function toGrammarJsonSchema(schema: JsonSchema | z.ZodType, where: string): JsonSchema {
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
