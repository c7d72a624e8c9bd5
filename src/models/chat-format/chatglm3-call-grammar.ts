/**
 * The grammar (XGrammar EBNF) of ChatGLM3's call arguments for one tool: "```python\ntool_call(" + keyword arguments
 * + ")\n```", each value a Python literal of the type the tool's JSON Schema gives (string, integer, number, boolean,
 * enum, array; anything else a generic literal). Required properties come first, in schema order, then the optional
 * ones, each optional. What the grammar admits, parseChatGlm3Call reads.
 */
import type { JsonSchema } from '../language-model';
import { pythonLiteral } from './chatglm3-tool-call';

const GENERIC_RULES = [
  'py_value ::= py_string | py_number | "True" | "False" | "None" | py_list | py_dict',
  'py_string ::= "\'" py_char* "\'"',
  'py_char ::= [^\'\\\\\\n] | "\\\\" [^\\n]',
  'py_integer ::= "-"? [0-9]+',
  'py_number ::= "-"? [0-9]+ ("." [0-9]+)?',
  'py_list ::= "[" (py_value (", " py_value)*)? "]"',
  'py_dict ::= "{" (py_string ": " py_value (", " py_string ": " py_value)*)? "}"',
];

/** EBNF text: root = the python block with tool_call(...) for `parameters`. */
export function chatGlm3CallGrammar(parameters: JsonSchema): string {
  const properties = (parameters.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(parameters.required) ? (parameters.required as string[]) : []);
  const names = Object.keys(properties).filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
  const pair = (name: string) => `"${name}=" ${valueRule(properties[name] ?? {})}`;
  const first = names.filter((name) => required.has(name));
  const rest = names.filter((name) => !required.has(name));
  let args: string;
  if (first.length > 0) {
    args = [first.map(pair).join(' ", " '), ...rest.map((name) => `(", " ${pair(name)})?`)].join(' ');
  } else if (rest.length > 0) {
    const any = `(${rest.map(pair).join(' | ')})`;
    args = `(${any} (", " ${any})*)?`;
  } else {
    args = '""';
  }
  return [`root ::= "\`\`\`python\\ntool_call(" ${args} ")\\n\`\`\`"`, ...GENERIC_RULES].join('\n');
}

function valueRule(schema: JsonSchema): string {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return `(${schema.enum.map((value) => ebnfString(pythonLiteral(value))).join(' | ')})`;
  if ('const' in schema) return ebnfString(pythonLiteral(schema.const));
  switch (schema.type) {
    case 'string':
      return stringRule(schema);
    case 'integer':
      return integerRule(schema);
    case 'number':
      return 'py_number';
    case 'boolean':
      return '("True" | "False")';
    case 'array': {
      const item = typeof schema.items === 'object' && schema.items !== null ? valueRule(schema.items as JsonSchema) : 'py_value';
      return `("[" (${item} (", " ${item})*)? "]")`;
    }
    default:
      return 'py_value';
  }
}

/** Digits bounded by the schema's range (so a small model cannot run on writing digits); sign only when allowed. */
function integerRule(schema: JsonSchema): string {
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number' && schema.maximum - schema.minimum <= 100) {
    const values: string[] = [];
    for (let value = Math.ceil(schema.minimum); value <= schema.maximum; value++) values.push(`"${value}"`);
    return `(${values.join(' | ')})`;
  }
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const maximum = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const digits = Math.min(15, Math.max(1, maximum === undefined ? 15 : String(Math.trunc(Math.abs(maximum))).length, minimum === undefined ? 1 : String(Math.trunc(Math.abs(minimum))).length));
  let tail = '';
  for (let i = 1; i < digits; i++) tail = `([0-9] ${tail})?`;
  const unsigned = `("0" | [1-9] ${tail})`;
  return minimum !== undefined && minimum >= 0 ? unsigned : `("-"? ${unsigned})`;
}

/** A string literal, its length bounded where the schema bounds it (up to 64 characters spelled out). */
function stringRule(schema: JsonSchema): string {
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  if (maxLength === undefined || maxLength > 64) return 'py_string';
  let chars = '';
  for (let i = 0; i < maxLength; i++) chars = `(py_char ${chars})?`;
  return `("'" ${chars} "'")`;
}

function ebnfString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
