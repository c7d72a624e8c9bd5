/**
 * The model's own tokenizer (tokenizer.json, through @huggingface/transformers) and chat format (its chat template,
 * from chat_template.jinja or tokenizer_config.json, probed by detectChatFormat), loaded from the local directory
 * only: no hub access, ever.
 *
 * Chat prompts are encoded per segment: the template's own text with special tokens on, message contents with them
 * off, so text such as `<|user|>` inside a document or a tool result never becomes a control token.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ChatTemplateError, GenerationError, TokenizerError } from '../errors';
import type { ChatFormat } from './chat-format/chat-format';
import { chatGlm3Format } from './chat-format/chatglm3-format';
import { chatGlm3PromptIds, chatGlm3TokenIds } from './chat-format/chatglm3-prompt';
import type { ChatTemplate } from './chat-format/chat-template';
import { detectChatFormat } from './chat-format/detect-chat-format';
import { loadChatTemplates, type ChatTemplates } from './chat-format/load-chat-templates';
import { renderChatSegments, segmentsText, type ChatSegment } from './chat-format/render-chat';
import type { ChatMessage, ToolSpec } from './language-model';

export interface GlmTokenizerLoadOptions {
  /**
   * The model's context length in tokens. A prompt longer than `contextLength` x the longest token's byte length
   * cannot fit, and is refused before it is tokenized (a multi-megabyte prompt would otherwise be tokenized for
   * seconds just to be refused). Defaults to no bound.
   */
  contextLength?: number;
  /**
   * A chat format rendered by code (its `render` is set), used instead of the directory's chat template: for model
   * families whose prompts no Jinja template describes (ChatGLM3). Defaults to the template's detected format.
   */
  chatFormat?: ChatFormat;
}

/** Stop texts GLM models write, where the vocabulary has them. */
const glmStopTokens = ['<|endoftext|>', '<|user|>', '<|observation|>'];

/** Text <-> token ids, as the model sees them. */
export interface TextTokenizer {
  /** Token ids of plain text, without special tokens. */
  encode(text: string): number[];
  /** Text of token ids (special tokens included as their text). */
  decode(ids: readonly number[]): string;
}

export class GlmTokenizer implements TextTokenizer {
  readonly directory: string;
  readonly #tokenizer: PreTrainedTokenizer;
  readonly #templates: ChatTemplates;
  readonly #formats = new Map<ChatTemplate, ChatFormat>();
  readonly #maxPromptChars: number;
  readonly #codeFormat: ChatFormat | undefined;
  #addedTokenIds: ReadonlySet<number> | undefined;
  #addedTokenPattern: RegExp | undefined | null = null;
  /** A converted ChatGLM3 tokenizer: prompts are ids built in code (chat-format/chatglm3-prompt.ts), no template. */
  readonly #chatGlm3: boolean;

  private constructor(
    directory: string,
    tokenizer: PreTrainedTokenizer,
    templates: ChatTemplates,
    contextLength: number | undefined,
    codeFormat: ChatFormat | undefined,
    chatGlm3 = false,
  ) {
    this.directory = directory;
    this.#codeFormat = codeFormat;
    this.#chatGlm3 = chatGlm3;
    this.#tokenizer = tokenizer;
    this.#templates = templates;
    this.#maxPromptChars = contextLength === undefined ? Number.POSITIVE_INFINITY : contextLength * longestTokenBytes(tokenizer);
  }

  /**
   * The raw tokenizer.json text (what a grammar compiler needs to know the vocabulary), read from the file on each
   * call: held for the model's lifetime it would cost about 9 MB of heap for a 151k vocabulary, and only a grammar
   * compiler, built once, reads it.
   */
  get tokenizerJson(): string {
    const file = `${this.directory}/tokenizer.json`;
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new TokenizerError(`Cannot read ${file}: ${messageOf(error)}`, { cause: error, details: { directory: this.directory, file } });
    }
  }

  /** Loads tokenizer.json and tokenizer_config.json from `directory` (an absolute path). */
  static async load(directory: string, options: GlmTokenizerLoadOptions = {}): Promise<GlmTokenizer> {
    const tokenizerFile = `${directory}/tokenizer.json`;
    const configFile = `${directory}/tokenizer_config.json`;
    let tokenizerConfig: Record<string, unknown>;
    try {
      if (!existsSync(tokenizerFile)) throw new Error(`${tokenizerFile} does not exist`);
      tokenizerConfig = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new TokenizerError(`Cannot read the tokenizer files of ${directory} (tokenizer.json, tokenizer_config.json): ${messageOf(error)}`, {
        cause: error,
        details: { directory },
      });
    }
    // Loaded here, not at import: transformers.js pulls in ONNX Runtime's native binding, which a program that never
    // opens a model must not pay for.
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    let tokenizer: PreTrainedTokenizer;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(directory, { local_files_only: true });
    } catch (error) {
      throw new TokenizerError(`Cannot load the tokenizer in ${directory}: ${messageOf(error)}. Check tokenizer.json.`, {
        cause: error,
        details: { directory, file: tokenizerFile },
      });
    }
    if (options.chatFormat !== undefined && typeof options.chatFormat.render !== 'function') {
      throw new TokenizerError('GlmTokenizer.load: options.chatFormat must be a format rendered by code (with a render function).', {
        details: { directory, field: 'chatFormat' },
      });
    }
    const chatGlm3 = (tokenizerConfig.autoglm_converted_from as { tokenizer_class?: unknown } | undefined)?.tokenizer_class === 'ChatGLMTokenizer';
    return new GlmTokenizer(directory, tokenizer, loadChatTemplates(directory, tokenizerConfig), options.contextLength, options.chatFormat, chatGlm3);
  }

  encode(text: string): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[]): string {
    return this.#tokenizer.decode(ids as number[], { skip_special_tokens: false });
  }

  /** Id of a token given by its text (a special token such as `<|user|>`), or undefined. */
  tokenId(token: string): number | undefined {
    const ids = this.#tokenizer.encode(token, { add_special_tokens: false });
    if (ids.length === 1) return ids[0];
    // A vocabulary entry that text never produces (ChatGLM3's sop): found by name, kept only if it decodes back.
    const [id] = this.#tokenizer.convert_tokens_to_ids([token]) as number[];
    return id !== undefined && this.decode([id]) === token ? id : undefined;
  }

  /**
   * Ids of the tokenizer's added tokens (the chat markers such as `<|user|>`, `<|assistant|>`, eos): the encoder
   * splits the text at them before anything else, so they bound each message's content in an encoded chat.
   */
  get addedTokenIds(): ReadonlySet<number> {
    if (this.#addedTokenIds === undefined) {
      const ids = new Set(this.#tokenizer.all_special_ids);
      // Non-special added tokens too, where the tokenizer exposes them (transformers.js keeps them on its inner model).
      const inner = (this.#tokenizer as unknown as { _tokenizer?: { get_added_tokens_decoder?(): Map<number, unknown> } })._tokenizer;
      for (const id of inner?.get_added_tokens_decoder?.().keys() ?? []) ids.add(id);
      this.#addedTokenIds = ids;
    }
    return this.#addedTokenIds;
  }

  get hasChatTemplate(): boolean {
    return this.#chatGlm3 || this.#codeFormat !== undefined || this.#templates.default !== undefined;
  }

  /** The chat format of conversations without tools (with tools, see `chatFormatFor`); undefined without a template. */
  get chatFormat(): ChatFormat | undefined {
    if (this.#chatGlm3) return chatGlm3Format;
    if (this.#codeFormat !== undefined) return this.#codeFormat;
    return this.#templates.default === undefined ? undefined : this.#formatOf(this.#templates.default);
  }

  /** The chat format of conversations with (or without) tools: the `tool_use` and `default` templates may differ. */
  chatFormatFor(withTools: boolean): ChatFormat {
    if (this.#chatGlm3) return chatGlm3Format;
    if (this.#codeFormat !== undefined) return this.#codeFormat;
    return this.#formatOf(this.#template(withTools ? [{ name: 'x', description: '', parameters: {} }] : undefined));
  }

  /** Renders messages (and tools) with the model's own chat template, ending with the generation prompt. */
  renderChat(messages: readonly ChatMessage[], tools?: readonly ToolSpec[]): string {
    if (this.#chatGlm3) return this.decode(this.encodeChat(messages, tools));
    return segmentsText(this.#segments(messages, tools));
  }

  /**
   * Token ids of rendered chat messages (no extra special tokens: the template already holds them). Message
   * contents are encoded with special tokens off (see `encodeContent`).
   */
  encodeChat(messages: readonly ChatMessage[], tools?: readonly ToolSpec[]): number[] {
    if (this.#chatGlm3) return chatGlm3PromptIds(messages, tools, { encode: (text) => this.encode(text), encodeContent: (text) => this.encodeContent(text) }, chatGlm3TokenIds((token) => this.tokenId(token)));
    const segments = this.#segments(messages, tools);
    this.#checkPromptLength(segments.reduce((sum, segment) => sum + segment.text.length, 0));
    const ids: number[] = [];
    for (const segment of segments) {
      for (const id of segment.content ? this.encodeContent(segment.text) : this.encode(segment.text)) ids.push(id);
    }
    return ids;
  }

  /** Token ids of a plain-text prompt; refused before tokenizing when it cannot fit the context (see load options). */
  encodePrompt(text: string): number[] {
    this.#checkPromptLength(text.length);
    return this.encode(text);
  }

  /**
   * Token ids of untrusted text (message content) that never include an added token's id: where the text spells a
   * special token (`<|user|>`), that spelling is encoded as ordinary text.
   */
  encodeContent(text: string): number[] {
    const pattern = this.#specialTextPattern();
    if (pattern === undefined || !pattern.test(text)) return this.encode(text);
    const ids: number[] = [];
    let at = 0;
    for (const match of text.matchAll(new RegExp(pattern.source, 'g'))) {
      if (match.index > at) ids.push(...this.encode(text.slice(at, match.index)));
      ids.push(...this.#encodeSpelling(match[0]));
      at = match.index + match[0].length;
    }
    if (at < text.length) ids.push(...this.encode(text.slice(at)));
    return ids;
  }

  #encodeSpelling(special: string): number[] {
    // Split before the first character: the rest can no longer match the whole added token.
    const ids = [...this.encode(special.slice(0, 1)), ...this.encode(special.slice(1))];
    if (!ids.some((id) => this.addedTokenIds.has(id))) return ids;
    return Array.from(special).flatMap((char) => this.encode(char)); // an added token inside an added token's spelling
  }

  /** A pattern matching any added token's text, longest first; undefined when the tokenizer has none. */
  #specialTextPattern(): RegExp | undefined {
    if (this.#addedTokenPattern === null) {
      const texts = [...this.addedTokenIds]
        .map((id) => this.#tokenizer.decode([id], { skip_special_tokens: false }))
        .filter((text) => text.length > 0)
        .sort((a, b) => b.length - a.length);
      this.#addedTokenPattern = texts.length === 0 ? undefined : new RegExp(texts.map(escapeRegExp).join('|'));
    }
    return this.#addedTokenPattern;
  }

  #checkPromptLength(chars: number): void {
    if (chars > this.#maxPromptChars) {
      throw new GenerationError(
        `The prompt has ${chars} characters: more tokens than the model's context can hold, whatever the split ` +
          `(at most ${this.#maxPromptChars} characters fit). Shorten the input, or summarise long documents in chunks.`,
        { details: { chars, maxChars: this.#maxPromptChars } },
      );
    }
  }

  #template(tools: readonly ToolSpec[] | undefined): ChatTemplate {
    const template = tools && tools.length > 0 ? this.#templates.toolUse : this.#templates.default;
    if (template === undefined) {
      throw new TokenizerError(
        `${this.directory} has no chat template (neither chat_template.jinja nor tokenizer_config.json's chat_template); chat messages cannot be rendered. Pass a string prompt or token ids instead.`,
        { details: { file: `${this.directory}/tokenizer_config.json`, field: 'chat_template' } },
      );
    }
    return template;
  }

  #formatOf(template: ChatTemplate): ChatFormat {
    let format = this.#formats.get(template);
    if (format === undefined) {
      format = detectChatFormat(template, { stopTokens: glmStopTokens.filter((text) => this.tokenId(text) !== undefined && this.addedTokenIds.has(this.tokenId(text)!)) });
      this.#formats.set(template, format);
    }
    return format;
  }

  #segments(messages: readonly ChatMessage[], tools: readonly ToolSpec[] | undefined): ChatSegment[] {
    if (this.#codeFormat?.render !== undefined) return this.#codeFormat.render(messages, tools);
    const template = this.#template(tools);
    try {
      return renderChatSegments(template, this.#formatOf(template), messages, tools);
    } catch (error) {
      if (error instanceof ChatTemplateError) throw error;
      throw new ChatTemplateError(`The chat template of ${this.directory} failed to render: ${messageOf(error)}`, { cause: error, details: { source: template.source } });
    }
  }
}

/** Longest token of the vocabulary in bytes (byte-level BPE writes one character per byte); at least 1. */
function longestTokenBytes(tokenizer: PreTrainedTokenizer): number {
  const vocab = (tokenizer as unknown as { _tokenizer?: { model?: { vocab?: unknown } } })._tokenizer?.model?.vocab;
  if (!Array.isArray(vocab)) return 64;
  let longest = 1;
  for (const token of vocab) if (typeof token === 'string' && token.length > longest) longest = token.length;
  return longest;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
