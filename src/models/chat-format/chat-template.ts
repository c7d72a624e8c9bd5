/**
 * One Jinja chat template, compiled once and rendered the way Hugging Face transformers renders it
 * (`apply_chat_template`: trim_blocks and lstrip_blocks, `messages`, `tools`, `add_generation_prompt`, the special
 * tokens of tokenizer_config.json), through @huggingface/jinja. Templates come from model directories, so they are
 * untrusted input: the source and the rendered text are bounded in size.
 */
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from '../../errors';

export interface ChatTemplateOptions {
  /** Where the template came from (a file, and the template's name in a list), for error messages. Required. */
  source: string;
  /** Values every render sees (`bos_token`, `eos_token`, ... from tokenizer_config.json). Defaults to none. */
  specialTokens?: Record<string, string>;
  /** Longest rendered text accepted, in characters. Defaults to 64 Mi characters. */
  maxOutputChars?: number;
}

/** Largest template source accepted: real GLM templates are under 5 KB. */
export const maxTemplateSourceChars = 1 << 20;

/** What a template renders from (HF `apply_chat_template` arguments). */
export interface ChatTemplateContext {
  messages: ReadonlyArray<Record<string, unknown>>;
  tools?: ReadonlyArray<Record<string, unknown>> | null;
  add_generation_prompt: boolean;
}

export class ChatTemplate {
  readonly text: string;
  readonly source: string;
  readonly #compiled: Template;
  readonly #specialTokens: Record<string, string>;
  readonly #maxOutputChars: number;

  constructor(text: string, options: ChatTemplateOptions) {
    this.source = options.source;
    if (typeof text !== 'string' || text.length === 0) {
      throw new ChatTemplateError(`The chat template in ${options.source} is empty or not a string.`, { details: { source: options.source } });
    }
    if (text.length > maxTemplateSourceChars) {
      throw new ChatTemplateError(
        `The chat template in ${options.source} has ${text.length} characters, more than the ${maxTemplateSourceChars} accepted; real chat templates are a few KB.`,
        { details: { source: options.source, chars: text.length } },
      );
    }
    this.text = text;
    this.#specialTokens = { ...(options.specialTokens ?? {}) };
    this.#maxOutputChars = options.maxOutputChars ?? 64 * 1024 * 1024;
    try {
      this.#compiled = new Template(text);
    } catch (error) {
      throw new ChatTemplateError(`The chat template in ${options.source} does not parse: ${messageOf(error)}`, {
        cause: error,
        details: { source: options.source },
      });
    }
  }

  /** The rendered prompt text. Throws ChatTemplateError when the template fails or its output is too long. */
  render(context: ChatTemplateContext): string {
    let text: string;
    try {
      text = this.#compiled.render({ ...this.#specialTokens, ...context, tools: context.tools ?? null, documents: null });
    } catch (error) {
      throw new ChatTemplateError(`The chat template in ${this.source} failed to render: ${messageOf(error)}`, {
        cause: error,
        details: { source: this.source },
      });
    }
    if (text.length > this.#maxOutputChars) {
      throw new ChatTemplateError(
        `The chat template in ${this.source} rendered ${text.length} characters, more than the ${this.#maxOutputChars} allowed.`,
        { details: { source: this.source, chars: text.length } },
      );
    }
    return text;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
