/**
 * What a GLM chat format is, as data: the one place where the prompt, call and answer shapes of a model live. The
 * renderer (GlmTokenizer), the grammar (GrammarCompiler), the tool-call parser, the agent, ToolRegistry's name check
 * and the test ScriptedModel all read it instead of assuming a layout. Formats come from `detectChatFormat` (a Jinja
 * template probed for what it renders) or from code (a format rendered without a template, such as ChatGLM3's).
 *
 * Adding a format rendered by code is one file: export a ChatFormat whose `render` turns messages and tools into
 * ChatSegments (control text apart from content, see render-chat.ts), and pass it to
 * `GlmTokenizer.load(dir, { chatFormat })` for the models that need it (by `model_type`).
 */
import type { ChatMessage, ToolSpec } from '../language-model';
import type { ChatSegment } from './render-chat';

/**
 * How a model's prompt carries the tool list:
 * - `template`: the template's `tools` argument (GLM-4-0414);
 * - `system-message`: a system message's `tools` key (glm-4-9b-chat);
 * - `ours`: the template has no place for tools, so the runtime writes them into the system message (GLM-Edge).
 */
export type ToolPresentation = 'template' | 'system-message' | 'ours';

export interface ChatFormat {
  /** A short name for logs and `autoglm model inspect` (`glm4-0414`, `glm4-chat`, `glm-edge`, `glm`, `chatglm3`). */
  readonly name: string;
  /** Where the tool list goes. */
  readonly tools: ToolPresentation;
  /** The text the template appends for `add_generation_prompt` (`<|assistant|>` or `<|assistant|>\n`). */
  readonly generationPrompt: string;
  /**
   * What the model writes before a plain answer: `\n` after a bare `<|assistant|>`; nothing when the generation
   * prompt already ends with the newline (GLM-Edge), else answers would start with a doubled newline.
   */
  readonly answerPrefix: string;
  /** What the model writes between a tool's name and its JSON arguments: `\n` for every GLM format. */
  readonly callNameSeparator: string;
  /**
   * How the template renders a recorded call (assistant message with `metadata` = name) between name and
   * arguments: `\n`, or ` \n` (GLM-4-0414). Undefined: the template ignores `metadata`, so a recorded call is
   * written into the assistant content as the model wrote it.
   */
  readonly recordedCallSeparator: string | undefined;
  /** The role tool results are rendered with: `observation` natively, `user` where the template has no such role. */
  readonly observationRole: 'observation' | 'user';
  /** Text that separates several calls in one assistant turn (`<|assistant|>`), or undefined: one call per turn. */
  readonly parallelCallSeparator: string | undefined;
  /** Special-token texts that end a generation when the model writes them (`<|user|>`, `<|observation|>`, eos). */
  readonly stopTokens: readonly string[];
  /**
   * How call arguments are written after the name line: `json` (every GLM-4 format; the default when absent) or
   * `python-tool-call` (ChatGLM3: a python block with `tool_call(k=v, ...)`, see chatglm3-tool-call.ts).
   */
  readonly callArguments?: 'json' | 'python-tool-call';
  /**
   * For a format rendered by code instead of a Jinja template: the prompt as segments (template text apart from
   * message content), ending with the generation prompt. Undefined for template formats.
   */
  readonly render?: (messages: readonly ChatMessage[], tools: readonly ToolSpec[] | undefined) => ChatSegment[];
}

/**
 * The one tool-name rule: a dotted identifier (`pdf.extract`, `search_pages`). GLM call syntax puts the name alone
 * on the first line, so it can hold no whitespace, newline or `<|`; the dot lets plugins namespace their tools.
 */
export const toolNamePattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** True when `name` follows the tool-name rule (see `toolNamePattern`). */
export function isToolName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && toolNamePattern.test(name);
}

/** Words for error messages that explain the tool-name rule. */
export const toolNameRule = 'a dotted identifier such as "pdf.extract" (letters, digits and _, parts separated by dots, at most 128 characters)';

/** The GLM-4 layout our own tests and the ScriptedModel use when a model says nothing else (GLM.md section 4-5). */
export const defaultChatFormat: ChatFormat = Object.freeze({
  name: 'glm',
  tools: 'template',
  generationPrompt: '<|assistant|>',
  answerPrefix: '\n',
  callNameSeparator: '\n',
  recordedCallSeparator: '\n',
  observationRole: 'observation',
  parallelCallSeparator: '<|assistant|>',
  stopTokens: Object.freeze(['<|endoftext|>', '<|user|>', '<|observation|>']),
});

/** What the model writes for one call: `name` + separator + arguments JSON. */
export function callText(format: ChatFormat, name: string, argumentsText: string): string {
  return `${name}${format.callNameSeparator}${argumentsText}`;
}

/** One-line description of a format (for logs and `autoglm model inspect`). */
export function describeChatFormat(format: ChatFormat): string {
  const tools = { template: 'native (template argument)', 'system-message': "system message's tools key", ours: 'rendered by autoglm' }[format.tools];
  return [
    `${format.name}`,
    `tools: ${tools}`,
    `call: name${JSON.stringify(format.callNameSeparator).slice(1, -1)}${format.callArguments === 'python-tool-call' ? '```python tool_call(k=v, ...)```' : '{json}'}`,
    `answer prefix: ${JSON.stringify(format.answerPrefix)}`,
    `observation role: ${format.observationRole}`,
    `parallel calls: ${format.parallelCallSeparator === undefined ? 'no' : `separated by ${format.parallelCallSeparator}`}`,
  ].join('; ');
}
