/**
 * Length-bounded strings without XGrammar's per-character rules. XGrammar 0.1.27 writes `maxLength: n` as a chain
 * of n rules, and compiling each costs a pass over the vocabulary: 6 s for n = 120, 10-17 s for n = 2000 on a 151k
 * vocabulary. A logarithmic grammar (blocks of 2^k characters) compiles in milliseconds but costs ~100 ms per token
 * at run time. So the grammar only says "a string of at least minLength characters" and the maximum is enforced on
 * the tokens: a tracker follows the JSON being written and, inside a bounded string, masks the tokens that would
 * put more characters before the closing quote than remain.
 *
 * Only strings the tracker can place without ambiguity are rewritten: reached from the root through `properties`
 * and `items`, or as the one branch of an anyOf / oneOf that admits strings (`.nullable()`). Other strings (under
 * allOf / $ref / prefixItems / additionalProperties, or unions with several string branches) keep XGrammar's
 * bounded rules (slow to compile, but exact).
 */
import type { JsonSchema } from '../language-model';

/** A string character in bounded strings: no raw control characters, no quote, no backslash (so no escapes). */
export const boundedStringCharacter = '[^\\0-\\x1f\\"\\\\]';

/** Path segment for "any item of an array". */
export const ANY_ITEM = '\u0000*';

/** Maximum length (code points) of the strings at each path; a path is its property names and ANY_ITEM. */
export type StringBounds = Map<string, number>;

export function pathKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

export interface ExtractedBoundedStrings {
  schema: JsonSchema;
  /** Placeholder string (a `const` in `schema`) -> EBNF of the string without its maximum. */
  grammars: Map<string, string>;
  bounds: StringBounds;
}

/** Keywords that make a string subschema something other than "any string of these lengths". */
const otherStringKeywords = ['pattern', 'format', 'const', 'enum', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', 'contentEncoding'];

let placeholderCounter = 0;

/** True for a subschema that admits no string: an explicit `type` without 'string', and no const / enum / union. */
function cannotBeString(node: unknown): boolean {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const object = node as Record<string, unknown>;
  if (['const', 'enum', 'anyOf', 'oneOf', 'allOf', '$ref', 'not'].some((keyword) => keyword in object)) return false;
  const types = Array.isArray(object.type) ? (object.type as unknown[]) : [object.type];
  return object.type !== undefined && !types.includes('string');
}

/** Swaps each unambiguously placed `{ type: 'string', maxLength }` for a placeholder; see the file comment. */
export function extractBoundedStrings(schema: JsonSchema): ExtractedBoundedStrings {
  const grammars = new Map<string, string>();
  const bounds: StringBounds = new Map();
  const visit = (node: unknown, path: string[]): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
    const object = node as Record<string, unknown>;
    if (
      object.type === 'string' &&
      typeof object.maxLength === 'number' &&
      Number.isInteger(object.maxLength) &&
      !otherStringKeywords.some((keyword) => keyword in object)
    ) {
      const minimum = typeof object.minLength === 'number' ? Math.max(0, Math.ceil(object.minLength)) : 0;
      const maximum = object.maxLength;
      if (maximum < minimum || maximum < 1) return node;
      const placeholder = `__autoglm_bounded_string_${placeholderCounter++}__`;
      const required = Array.from({ length: minimum }, () => boundedStringCharacter).join(' ');
      grammars.set(placeholder, `("\\"" ${required} ${boundedStringCharacter}* "\\"")`);
      bounds.set(pathKey(path), maximum);
      return { const: placeholder };
    }
    const copy: Record<string, unknown> = { ...object };
    // `z.string().max(n).nullable()` and the like: a union with one string branch; a string value at this path can
    // only be that branch, so its bound is unambiguous. Other branches are left to XGrammar as they are.
    for (const union of ['anyOf', 'oneOf'] as const) {
      const branches = object[union];
      if (!Array.isArray(branches)) continue;
      const stringBranches = branches.filter((branch) => !cannotBeString(branch));
      if (stringBranches.length !== 1) continue;
      copy[union] = branches.map((branch) => (branch === stringBranches[0] ? visit(branch, path) : branch));
    }
    if (typeof object.properties === 'object' && object.properties !== null) {
      copy.properties = Object.fromEntries(
        Object.entries(object.properties).map(([key, value]) => [key, visit(value, [...path, key])]),
      );
    }
    if (typeof object.items === 'object' && object.items !== null && !Array.isArray(object.items) && !('prefixItems' in object)) {
      copy.items = visit(object.items, [...path, ANY_ITEM]);
    }
    return copy;
  };
  return { schema: visit(schema, []) as JsonSchema, grammars, bounds };
}
