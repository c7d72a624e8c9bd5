/**
 * A LanguageModel that replies from a script, for testing the agent, tool and workflow layers without ONNX.
 * Never the proof that generation works: that is tested on real ONNX models in test/models.
 *
 * Tokens are Unicode code points, so counts are deterministic. Chat input is rendered by the same chat-format code
 * GlmModel uses (chat-format/render-chat.ts), with the template of a tiny `glm4` model by default (GLM-4 layout:
 * `[gMASK]<sop>`, tools as a `# 可用工具` system block, `<|role|>{metadata}\n{content}`, then `<|assistant|>`) or any
 * real one (`chatTemplate`), so tests can assert on prompts the way the real template shapes them, and the agent
 * reads the same ChatFormat (`chatFormat`) it would read from a GlmModel with that template.
 */
import { ChatTemplate } from '../../src/models/chat-format/chat-template';
import type { ChatFormat } from '../../src/models/chat-format/chat-format';
import { detectChatFormat } from '../../src/models/chat-format/detect-chat-format';
import { renderChatSegments, segmentsText } from '../../src/models/chat-format/render-chat';
import { tinyChatTemplate, type TinyChatTemplate } from '../../src/models/tiny/glm-chat-template';
import type {
  GenerateOptions,
  GenerateResult,
  GenerationEvent,
  LanguageModel,
  ModelInfo,
  ModelInput,
  ToolSpec,
} from '../../src/models/language-model';

export interface ScriptedCall {
  prompt: string;
  options: GenerateOptions;
}

/** A reply: fixed text, or computed from the rendered prompt and the call's options. */
export type ScriptedReply = string | ((call: ScriptedCall, index: number) => string);

export class ScriptedModel implements LanguageModel {
  readonly info: ModelInfo = {
    family: 'glm',
    vocabSize: 0x110000,
    contextLength: 8192,
    layers: 1,
    heads: 1,
    kvHeads: 1,
    headDim: 1,
    hiddenSize: 1,
    eosTokenIds: [],
  };
  readonly calls: ScriptedCall[] = [];
  readonly chatFormat: ChatFormat;
  readonly #template: ChatTemplate;
  #replies: ScriptedReply[];
  #fallback: ScriptedReply | undefined;
  #disposed = false;

  /** `replies` are used in order; once they run out, `fallback` answers (or the call throws). */
  constructor(
    replies: ScriptedReply[],
    options: { fallback?: ScriptedReply; contextLength?: number; chatTemplate?: TinyChatTemplate } = {},
  ) {
    this.#template = new ChatTemplate(tinyChatTemplate(options.chatTemplate ?? 'glm', 'glm4'), { source: 'ScriptedModel' });
    this.chatFormat = detectChatFormat(this.#template);
    this.#replies = [...replies];
    this.#fallback = options.fallback;
    if (options.contextLength !== undefined) this.info.contextLength = options.contextLength;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  tokenize(text: string): number[] {
    return Array.from(text, (char) => char.codePointAt(0)!);
  }

  countTokens(input: ModelInput, options: { tools?: ToolSpec[] } = {}): number {
    return this.tokenize(this.render(input, options.tools)).length;
  }

  /** The prompt text as this model renders it. */
  render(input: ModelInput, tools?: ToolSpec[]): string {
    if (typeof input === 'string') return input;
    if (input.length === 0 || typeof input[0] === 'number') return String.fromCodePoint(...(input as number[]));
    return segmentsText(renderChatSegments(this.#template, this.chatFormat, input as Exclude<ModelInput, string | number[]>, tools));
  }

  async generate(input: ModelInput, options: GenerateOptions = {}): Promise<GenerateResult> {
    let result: GenerateResult | undefined;
    for await (const event of this.stream(input, options)) if (event.type === 'end') result = event;
    return result!;
  }

  async *stream(input: ModelInput, options: GenerateOptions = {}): AsyncGenerator<GenerationEvent, void, undefined> {
    if (this.#disposed) throw new Error('ScriptedModel: used after dispose');
    const call: ScriptedCall = { prompt: this.render(input, options.tools), options };
    const index = this.calls.length;
    this.calls.push(call);
    const reply = this.#replies.shift() ?? this.#fallback;
    if (reply === undefined) throw new Error(`ScriptedModel: no reply scripted for call ${index + 1}`);
    const text = typeof reply === 'function' ? reply(call, index) : reply;
    const started = performance.now();
    const tokenIds: number[] = [];
    let finishReason: GenerateResult['finishReason'] = 'stop';
    const maxNewTokens = options.maxNewTokens ?? Number.POSITIVE_INFINITY;
    for (const char of text) {
      if (options.signal?.aborted) {
        finishReason = 'abort';
        break;
      }
      if (tokenIds.length >= maxNewTokens) {
        finishReason = 'length';
        break;
      }
      const id = char.codePointAt(0)!;
      tokenIds.push(id);
      yield { type: 'token', id, text: char };
    }
    const promptTokens = this.tokenize(call.prompt).length;
    const totalMs = performance.now() - started;
    yield {
      type: 'end',
      text: String.fromCodePoint(...tokenIds),
      tokenIds,
      finishReason,
      usage: { promptTokens, completionTokens: tokenIds.length, prefillTokens: promptTokens, cachedTokens: 0 },
      timings: { prefillMs: 0, timeToFirstTokenMs: 0, decodeMs: totalMs, decodeTokensPerSecond: 0, totalMs },
    };
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
  }
}
