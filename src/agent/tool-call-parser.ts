/**
 * Parses what a GLM model wrote after `<|assistant|>` (GLM.md section 5): either a native tool call
 * (`{name}\n{JSON arguments}`) or an answer (`\n` then text). Malformed output is returned as a value, never thrown,
 * so the agent can show the model what was wrong as an observation.
 */
import { parseModelJson } from './parse-json';

export interface ToolCallParserOptions {
  /**
   * Registered tool names. A call naming another tool is `invalid`. Defaults to accepting any name that looks like
   * an identifier (letters, digits, `_`, `-`, `.`).
   */
  toolNames?: Iterable<string>;
  /**
   * Tolerate what unconstrained small models write around the format: leading or trailing whitespace, a code fence
   * around the arguments, text after the JSON object, several calls separated by `<|assistant|>` (the first is
   * used), and an answer without its leading newline. Defaults to false: the exact format the grammar produces.
   */
  lenient?: boolean;
}

export type ParsedModelOutput =
  /** A tool call; `argumentsText` is the JSON exactly as the model wrote it (kept in history for prefix reuse). */
  | { type: 'call'; name: string; args: unknown; argumentsText: string }
  /** An answer; `text` is without the leading newline. */
  | { type: 'answer'; text: string }
  /** Neither: `reason` says what is wrong, in words the model can act on. `name` is set when a tool was named. */
  | { type: 'invalid'; reason: string; name?: string };

const TOOL_NAME = /^[A-Za-z_][\w.-]*$/;

/** Parse one model output in the GLM native tool-call format. */
export function parseToolCall(text: string, options: ToolCallParserOptions = {}): ParsedModelOutput {
  const lenient = options.lenient ?? false;
  const names = options.toolNames === undefined ? undefined : new Set(options.toolNames);
  let output = text;
  if (lenient) {
    // Several calls in one output are separated by the assistant tag; the agent runs one call per step.
    output = output.split('<|assistant|>')[0]!.replace(/<\|observation\|>[\s\S]*$/, '').trimEnd();
  }
  if (output.startsWith('\n')) return { type: 'answer', text: lenient ? output.trim() : output.slice(1) };
  if (lenient) output = output.trimStart();

  const newline = output.indexOf('\n');
  const firstLine = (newline === -1 ? output : output.slice(0, newline)).trim();
  const rest = newline === -1 ? '' : output.slice(newline + 1);
  const isName = TOOL_NAME.test(firstLine);
  const known = isName && (names === undefined || names.has(firstLine));

  if (!known) {
    // Unconstrained models often skip the newline before a plain answer.
    if (lenient && !looksLikeCallAttempt(firstLine, rest)) return { type: 'answer', text: output.trim() };
    if (isName && names !== undefined) {
      return {
        type: 'invalid',
        name: firstLine,
        reason: `Unknown tool "${firstLine}". Call one of: ${[...names].join(', ') || '(no tools)'}; or answer with a newline first.`,
      };
    }
    return {
      type: 'invalid',
      reason: 'Output is neither a tool call ("name" on the first line, JSON arguments below) nor an answer (starting with a newline).',
    };
  }

  const argumentsText = lenient ? extractJsonObject(rest) : rest;
  if (argumentsText === undefined || argumentsText.trim() === '') {
    return { type: 'invalid', name: firstLine, reason: `Tool call "${firstLine}" has no JSON arguments after its name line.` };
  }
  try {
    return { type: 'call', name: firstLine, args: parseModelJson(argumentsText), argumentsText: argumentsText.trim() };
  } catch (error) {
    return {
      type: 'invalid',
      name: firstLine,
      reason: `Arguments of "${firstLine}" are not valid JSON (${(error as Error).message}).`,
    };
  }
}

/** A first line that names something followed by JSON-looking text, as opposed to prose. */
function looksLikeCallAttempt(firstLine: string, rest: string): boolean {
  return TOOL_NAME.test(firstLine) && /^\s*(```(json)?\s*)?[{[]/.test(rest);
}

/**
 * The first balanced JSON object in `text` (skipping a code fence and ignoring text after it), or the trimmed text
 * when no object starts it, so JSON.parse reports the real problem.
 */
function extractJsonObject(text: string): string | undefined {
  const stripped = text.replace(/^\s*```(?:json)?\s*/, '');
  const start = stripped.search(/\S/);
  if (start === -1) return undefined;
  if (stripped[start] !== '{') return stripped.trim();
  let depth = 0;
  let inString = false;
  for (let index = start; index < stripped.length; index += 1) {
    const char = stripped[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') depth += 1;
    else if (char === '}' && --depth === 0) return stripped.slice(start, index + 1);
  }
  return stripped.slice(start).trim();
}
