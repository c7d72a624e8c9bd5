/**
 * Renders a conversation with a model's chat template into segments that say which text came from the template
 * (control tokens allowed) and which is message content (user input, documents, tool results: encoded with special
 * tokens off, so `<|user|>` written in a PDF stays text and can never forge a turn).
 *
 * How: every non-empty content is replaced by a placeholder before rendering, the output is split at the
 * placeholders, and the contents are put back as their own segments. The joined text is byte-equal to what the
 * template renders from the real contents. A template that drops a message fails loudly instead.
 */
import { ChatTemplateError } from '../../errors';
import type { ChatMessage, ToolSpec } from '../language-model';
import { isToolName, toolNameRule, type ChatFormat } from './chat-format';
import type { ChatTemplate, ChatTemplateContext } from './chat-template';
import { toolBlock } from './tool-block';

export interface ChatSegment {
  text: string;
  /** True for message content (untrusted text), false for text the template wrote. */
  content: boolean;
}

const roles = new Set(['system', 'user', 'assistant', 'observation']);
const placeholderPattern = /\uE000(\d+)\uE001/g;

/**
 * The template arguments for a conversation under `format`: tools where the format carries them, recorded calls
 * and observations in the roles the template knows. With `placeholders`, contents are replaced by markers and
 * returned in `contents`.
 */
export function chatTemplateInput(
  format: ChatFormat,
  messages: readonly ChatMessage[],
  tools: readonly ToolSpec[] | undefined,
  placeholders = false,
): ChatTemplateContext & { contents: string[] } {
  const contents: string[] = [];
  const content = (text: string): string => {
    if (!placeholders || text === '') return text;
    contents.push(text);
    return `\uE000${contents.length - 1}\uE001`;
  };
  const hasTools = tools !== undefined && tools.length > 0;
  const prepared: Array<Record<string, unknown>> = [];
  messages.forEach((message, index) => {
    if (message === null || typeof message !== 'object' || !roles.has(message.role) || typeof message.content !== 'string') {
      throw new ChatTemplateError(
        `messages[${index}] must be { role: 'system' | 'user' | 'assistant' | 'observation', content: string }, got role ${JSON.stringify((message as { role?: unknown })?.role)}.`,
        { details: { index } },
      );
    }
    const unknown = Object.keys(message).filter((key) => key !== 'role' && key !== 'content' && key !== 'metadata');
    if (unknown.length > 0) {
      throw new ChatTemplateError(`messages[${index}] has unknown field(s) ${unknown.join(', ')}; a message has role, content and (for a recorded call) metadata.`, {
        details: { index, fields: unknown },
      });
    }
    if (message.metadata !== undefined && message.metadata !== '') {
      if (message.role !== 'assistant' || !isToolName(message.metadata)) {
        throw new ChatTemplateError(
          `messages[${index}].metadata marks a recorded tool call: it must be on an assistant message and be ${toolNameRule}; got ${JSON.stringify(message.metadata).slice(0, 80)} on a ${message.role} message.`,
          { details: { index } },
        );
      }
      if (format.recordedCallSeparator === undefined) {
        prepared.push({ role: 'assistant', content: content(`${message.metadata}${format.callNameSeparator}${message.content}`) });
      } else prepared.push({ role: 'assistant', metadata: message.metadata, content: content(message.content) });
      return;
    }
    if (message.role === 'observation' && format.observationRole === 'user') {
      prepared.push({ role: 'user', content: content(`Observation:\n${message.content}`) });
      return;
    }
    prepared.push({ role: message.role, content: content(message.content) });
  });
  let templateTools: Array<Record<string, unknown>> | null = null;
  if (hasTools) {
    const wrapped = tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } }));
    if (format.tools === 'template') templateTools = wrapped;
    else {
      const system = prepared.findIndex((message) => message.role === 'system');
      if (format.tools === 'system-message') {
        if (system === -1) prepared.unshift({ role: 'system', content: '', tools: wrapped });
        else prepared[system] = { ...prepared[system], tools: wrapped };
      } else {
        // Ours: the block is part of the system content (encoded as text), after the developer's own words.
        const block = toolBlock(tools);
        if (system === -1) prepared.unshift({ role: 'system', content: content(block) });
        else {
          const current = prepared[system]!.content as string;
          if (placeholders && current !== '') {
            const index = indexOfPlaceholder(current);
            contents[index] = `${contents[index]}\n\n${block}`;
          } else prepared[system] = { ...prepared[system], content: content(current ? `${current}\n\n${block}` : block) };
        }
      }
    }
  }
  return { messages: prepared, tools: templateTools, add_generation_prompt: true, contents };
}

/** The conversation rendered by `template` as template and content segments (see the file comment). */
export function renderChatSegments(
  template: ChatTemplate,
  format: ChatFormat,
  messages: readonly ChatMessage[],
  tools?: readonly ToolSpec[],
): ChatSegment[] {
  const { contents, ...context } = chatTemplateInput(format, messages, tools, true);
  const rendered = template.render(context);
  const segments: ChatSegment[] = [];
  const seen = new Set<number>();
  let at = 0;
  for (const match of rendered.matchAll(placeholderPattern)) {
    const index = Number(match[1]);
    const text = contents[index];
    if (text === undefined) continue; // not ours: a template's own text that looks like a marker
    if (match.index > at) segments.push({ text: rendered.slice(at, match.index), content: false });
    segments.push({ text, content: true });
    seen.add(index);
    at = match.index + match[0].length;
  }
  if (at < rendered.length) segments.push({ text: rendered.slice(at), content: false });
  if (seen.size !== contents.length) {
    const missing = contents.findIndex((_text, index) => !seen.has(index));
    throw new ChatTemplateError(
      `The chat template in ${template.source} dropped a message's content (content ${missing} of ${contents.length}): it cannot render this conversation. ` +
        'Check the roles it supports, or give the model a template that renders every message.',
      { details: { source: template.source, missing } },
    );
  }
  return segments;
}

/** Joins segments into the prompt text. */
export function segmentsText(segments: readonly ChatSegment[]): string {
  return segments.map((segment) => segment.text).join('');
}

function indexOfPlaceholder(text: string): number {
  return Number(/^\uE000(\d+)\uE001$/.exec(text)![1]);
}
