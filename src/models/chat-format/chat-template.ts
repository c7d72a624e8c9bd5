/**
 * One Jinja chat template, compiled once and rendered the way Hugging Face transformers renders it
 * (`apply_chat_template`: trim_blocks and lstrip_blocks, `messages`, `tools`, `add_generation_prompt`, the special
 * tokens of tokenizer_config.json), through @huggingface/jinja. Templates come from model directories, so they are
 * untrusted input: the source and the rendered text are bounded in size.
 */
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from '../../errors';
import { renderTemplateBounded, type TemplateRenderLimits } from './bounded-template-renderer';

export interface ChatTemplateOptions {
  /** Where the template came from (a file, and the template's name in a list), for error messages. Required. */
  source: string;
  /** Values every render sees (`bos_token`, `eos_token`, ... from tokenizer_config.json). Defaults to none. */
  specialTokens?: Record<string, string>;
  /** Longest rendered text accepted, in characters. Defaults to 64 Mi characters. */
  maxOutputChars?: number;
  /**
   * Longest a render may take, in ms. Renders run in a worker thread that is stopped past this (see
   * bounded-template-renderer.ts). Defaults to 5000.
   */
  renderTimeoutMs?: number;
  /** Heap of the rendering worker, in MB. Defaults to 512. */
  maxRenderHeapMb?: number;
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
  readonly #specialTokens: Record<string, string>;
  readonly #limits: TemplateRenderLimits;

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
    this.#limits = {
      maxOutputChars: options.maxOutputChars ?? 64 * 1024 * 1024,
      timeoutMs: options.renderTimeoutMs ?? 5000,
      maxHeapMb: options.maxRenderHeapMb ?? 512,
    };
    try {
      new Template(text); // parse errors surface here, at load, with the file named
    } catch (error) {
      throw new ChatTemplateError(`The chat template in ${options.source} does not parse: ${messageOf(error)}`, {
        cause: error,
        details: { source: options.source },
      });
    }
  }

  /** The rendered prompt text. Throws ChatTemplateError when the template fails, or runs past its limits. */
  render(context: ChatTemplateContext): string {
    return renderTemplateBounded(
      this.text,
      { ...this.#specialTokens, ...context, tools: context.tools ?? null, documents: null },
      this.#limits,
      this.source,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
