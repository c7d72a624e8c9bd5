/**
 * The model's own tokenizer (tokenizer.json) and chat template (tokenizer_config.json), through
 * @huggingface/transformers, loaded from the local directory only: no hub access, ever.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { TokenizerError } from '../errors';
import type { ChatMessage, ToolSpec } from './language-model';

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
  readonly #chatTemplate: string | undefined;
  #addedTokenIds: ReadonlySet<number> | undefined;

  private constructor(directory: string, tokenizer: PreTrainedTokenizer, chatTemplate: string | undefined) {
    this.directory = directory;
    this.#tokenizer = tokenizer;
    this.#chatTemplate = chatTemplate;
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
  static async load(directory: string): Promise<GlmTokenizer> {
    const tokenizerFile = `${directory}/tokenizer.json`;
    const configFile = `${directory}/tokenizer_config.json`;
    let tokenizerConfig: { chat_template?: unknown };
    try {
      if (!existsSync(tokenizerFile)) throw new Error(`${tokenizerFile} does not exist`);
      tokenizerConfig = JSON.parse(readFileSync(configFile, 'utf8')) as { chat_template?: unknown };
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
    const template = tokenizerConfig.chat_template;
    return new GlmTokenizer(directory, tokenizer, typeof template === 'string' ? template : undefined);
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
    return ids.length === 1 ? ids[0] : undefined;
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
    return this.#chatTemplate !== undefined;
  }

  /** Renders messages (and tools) with the model's own chat template, ending with the generation prompt. */
  renderChat(messages: readonly ChatMessage[], tools?: readonly ToolSpec[]): string {
    if (this.#chatTemplate === undefined) {
      throw new TokenizerError(
        `${this.directory}/tokenizer_config.json has no chat_template; chat messages cannot be rendered. Pass a string prompt or token ids instead.`,
        { details: { file: `${this.directory}/tokenizer_config.json`, field: 'chat_template' } },
      );
    }
    const templateTools =
      tools && tools.length > 0
        ? tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } }))
        : null;
    try {
      return this.#tokenizer.apply_chat_template(messages.map((message) => ({ ...message })), {
        chat_template: this.#chatTemplate,
        tools: templateTools,
        add_generation_prompt: true,
        tokenize: false,
      }) as string;
    } catch (error) {
      throw new TokenizerError(`The chat template of ${this.directory} failed to render: ${messageOf(error)}`, {
        cause: error,
        details: { file: `${this.directory}/tokenizer_config.json`, field: 'chat_template' },
      });
    }
  }

  /** Token ids of rendered chat messages (no extra special tokens: the template already holds them). */
  encodeChat(messages: readonly ChatMessage[], tools?: readonly ToolSpec[]): number[] {
    return this.encode(this.renderChat(messages, tools));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
