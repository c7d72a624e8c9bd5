/**
 * Responses of `POST /v1/chat/completions` in OpenAI's shapes: the completion object, and the stream's chunks
 * (a role + first delta, content or tool-call deltas, a finish chunk, and the usage chunk with `choices: []`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FinishReason, GenerationUsage } from '../../models/language-model';
import type { GlmOutputPart } from '../glm-output-splitter';
import { toOpenAiToolName } from './tool-names';

export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function openAiUsage(usage: GenerationUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
  };
}

export function finishReasonOf(reason: FinishReason, toolCall: boolean): OpenAiFinishReason {
  if (reason === 'length') return 'length';
  return toolCall ? 'tool_calls' : 'stop';
}

/** Builds the chunks of one streamed completion; `parts` turns splitter parts into deltas. */
export class ChatCompletionChunks {
  readonly id = `chatcmpl-${randomUUID()}`;
  readonly created = Math.floor(Date.now() / 1000);
  readonly #model: string;
  readonly #fingerprint: string;
  readonly #includeUsage: boolean;
  #roleSent = false;
  #toolCallId: string | undefined;

  constructor(model: string, version: string, includeUsage: boolean) {
    this.#model = model;
    this.#fingerprint = `autoglm-${version}`;
    this.#includeUsage = includeUsage;
  }

  #chunk(delta: Record<string, unknown>, finishReason: OpenAiFinishReason | null): Record<string, unknown> {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.#model,
      system_fingerprint: this.#fingerprint,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(this.#includeUsage ? { usage: null } : {}),
    };
  }

  #role(delta: Record<string, unknown>): Record<string, unknown> {
    if (this.#roleSent) return delta;
    this.#roleSent = true;
    return { role: 'assistant', ...delta };
  }

  part(part: GlmOutputPart): Record<string, unknown> {
    switch (part.type) {
      case 'text':
        return this.#chunk(this.#role({ content: part.delta }), null);
      case 'tool-call-start':
        this.#toolCallId = newToolCallId();
        return this.#chunk(
          this.#role({ content: null, tool_calls: [{ index: 0, id: this.#toolCallId, type: 'function', function: { name: toOpenAiToolName(part.name), arguments: '' } }] }),
          null,
        );
      case 'tool-arguments':
        return this.#chunk({ tool_calls: [{ index: 0, function: { arguments: part.delta } }] }, null);
    }
  }

  /** The last chunks: an empty role delta if nothing was written, the finish reason, then usage when asked. */
  finish(reason: OpenAiFinishReason, usage: GenerationUsage): Record<string, unknown>[] {
    const chunks = this.#roleSent ? [] : [this.#chunk(this.#role({ content: '' }), null)];
    chunks.push(this.#chunk({}, reason));
    if (this.#includeUsage) {
      chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.#model, system_fingerprint: this.#fingerprint, choices: [], usage: openAiUsage(usage) });
    }
    return chunks;
  }
}

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

/** The non-streamed completion object. */
export function chatCompletion(options: {
  model: string;
  version: string;
  text: string;
  toolCall: { name: string; arguments: string } | undefined;
  finishReason: OpenAiFinishReason;
  usage: GenerationUsage;
}): Record<string, unknown> {
  const message =
    options.toolCall === undefined
      ? { role: 'assistant', content: options.text, refusal: null }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: newToolCallId(), type: 'function', function: { name: toOpenAiToolName(options.toolCall.name), arguments: options.toolCall.arguments } }],
        };
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: options.model,
    system_fingerprint: `autoglm-${options.version}`,
    choices: [{ index: 0, message, logprobs: null, finish_reason: options.finishReason }],
    usage: openAiUsage(options.usage),
  };
}
