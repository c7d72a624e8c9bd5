/**
 * Parses what a GLM model wrote after its generation prompt (GLM.md section 5), in the layout its chat format says
 * (chat-format.ts): one or more native tool calls (`{name}\n{JSON arguments}`, several separated by
 * `<|assistant|>` where the format allows), or an answer (the format's answer prefix, `\n` or nothing, then text).
 * Malformed output is returned as a value, never thrown, so the agent can show the model what was wrong as an
 * observation.
 */
import { defaultChatFormat, isToolName, type ChatFormat } from '../models/chat-format/chat-format';
import { parseChatGlm3Call } from '../models/chat-format/chatglm3-tool-call';
import { parseModelJson } from './parse-json';

export interface ToolCallParserOptions {
  /**
   * Registered tool names. A call naming another tool is `invalid`. Defaults to accepting any name that follows the
   * tool-name rule (chat-format.ts `toolNamePattern`).
   */
  toolNames?: Iterable<string>;
  /**
   * Tolerate what unconstrained small models write around the format: leading or trailing whitespace, a code fence
   * around the arguments, text after the JSON object, and an answer without its leading newline. Defaults to false:
   * the exact format the grammar produces.
   */
  lenient?: boolean;
  /** The model's chat format (answer prefix, call layout, parallel-call separator). Defaults to defaultChatFormat. */
  format?: Pick<ChatFormat, 'answerPrefix' | 'callNameSeparator' | 'parallelCallSeparator' | 'callArguments'>;
}

/** One tool call; `argumentsText` is the JSON exactly as the model wrote it (kept in history for prefix reuse). */
export interface ParsedToolCall {
  name: string;
  args: unknown;
  argumentsText: string;
}

export type ParsedModelOutput =
  | ({ type: 'call' } & ParsedToolCall)
  /** Several calls in one turn (where the format allows), in the order written. */
  | { type: 'calls'; calls: ParsedToolCall[] }
  /** An answer; `text` is without the answer prefix. */
  | { type: 'answer'; text: string }
  /** Neither: `reason` says what is wrong, in words the model can act on. `name` is set when a tool was named. */
  | { type: 'invalid'; reason: string; name?: string };

type Format = NonNullable<ToolCallParserOptions['format']>;

/** Parse one model output in the GLM native tool-call format. */
export function parseToolCall(text: string, options: ToolCallParserOptions = {}): ParsedModelOutput {
  const lenient = options.lenient ?? false;
  const format = options.format ?? defaultChatFormat;
  const names = options.toolNames === undefined ? undefined : new Set(options.toolNames);
  let output = text;
  if (lenient) output = output.replace(/<\|observation\|>[\s\S]*$/, '').trimEnd();
  const separator = format.parallelCallSeparator;
  const answerFirst = format.answerPrefix !== '' && output.startsWith(format.answerPrefix);
  if (separator === undefined || answerFirst || !output.includes(separator)) {
    if (lenient && separator === undefined) output = output.split('<|assistant|>')[0]!.trimEnd();
    return parseOne(output, names, lenient, format);
  }
  const parts = output.split(separator);
  const calls: ParsedToolCall[] = [];
  for (const [index, part] of parts.entries()) {
    const parsed = parseOne(lenient ? part.trim() : part, names, lenient, format);
    if (parsed.type === 'call') calls.push({ name: parsed.name, args: parsed.args, argumentsText: parsed.argumentsText });
    else if (parsed.type === 'invalid') return { ...parsed, reason: `Call ${index + 1} of ${parts.length}: ${parsed.reason}` };
    else if (lenient && index > 0) break; // unconstrained models ramble on after their calls
    else {
      return {
        type: 'invalid',
        reason: `Part ${index + 1} of ${parts.length} (split at ${separator}) is not a tool call; several calls in one turn are "name" lines with JSON arguments, separated by ${separator}.`,
      };
    }
  }
  return calls.length === 1 ? { type: 'call', ...calls[0]! } : { type: 'calls', calls };
}

function parseOne(text: string, names: ReadonlySet<string> | undefined, lenient: boolean, format: Format): ParsedModelOutput {
  let output = text;
  const prefix = format.answerPrefix;
  if (prefix !== '' && output.startsWith(prefix)) return { type: 'answer', text: lenient ? output.trim() : output.slice(prefix.length) };
  if (lenient) output = output.trimStart();

  const newline = output.indexOf(format.callNameSeparator);
  const firstLine = (newline === -1 ? output : output.slice(0, newline)).trim();
  const rest = newline === -1 ? '' : output.slice(newline + format.callNameSeparator.length);
  const isName = isToolName(firstLine);
  const known = isName && (names === undefined || names.has(firstLine));

  // Without an answer prefix (the generation prompt wrote the newline), anything that is not a call is the answer.
  if (prefix === '' && !(known && (names !== undefined || /^\s*[{[]/.test(rest)))) {
    if (isName && names !== undefined && looksLikeCallAttempt(firstLine, rest)) return unknownTool(firstLine, names, prefix);
    return { type: 'answer', text: lenient ? output.trim() : text };
  }
  if (!known) {
    // Unconstrained models often skip the newline before a plain answer.
    if (lenient && !looksLikeCallAttempt(firstLine, rest)) return { type: 'answer', text: output.trim() };
    if (isName && names !== undefined) return unknownTool(firstLine, names, prefix);
    return {
      type: 'invalid',
      reason: 'Output is neither a tool call ("name" on the first line, JSON arguments below) nor an answer (starting with a newline).',
    };
  }

  if (format.callArguments === 'python-tool-call') {
    const call = parseChatGlm3Call(`${firstLine}\n${rest}`);
    return call.ok ? { type: 'call', name: call.name, args: call.args, argumentsText: rest.trim() } : { type: 'invalid', name: firstLine, reason: call.reason };
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

function unknownTool(name: string, names: ReadonlySet<string>, prefix: string): ParsedModelOutput {
  const answer = prefix === '' ? 'or answer in plain text' : 'or answer with a newline first';
  return { type: 'invalid', name, reason: `Unknown tool "${name}". Call one of: ${[...names].join(', ') || '(no tools)'}; ${answer}.` };
}

/** A first line that names something followed by JSON-looking text, as opposed to prose. */
function looksLikeCallAttempt(firstLine: string, rest: string): boolean {
  return isToolName(firstLine) && /^\s*(```(json)?\s*)?[{[]/.test(rest);
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
