/**
 * The one interface through which tools/, agent/ and workflows/ see a model. GlmModel implements it over ONNX
 * Runtime; tests of the upper layers may implement it with a scripted model.
 */
import type { z } from 'zod';
import { GenerationError } from '../errors';
import type { ChatFormat } from './chat-format/chat-format';
import type { Drafter } from './generation/drafter';

export type ChatRole = 'system' | 'user' | 'assistant' | 'observation';

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /**
   * GLM message metadata: for an assistant message that recorded a tool call, the tool name (its `content` is then
   * the arguments JSON). Rendered by the chat template as `<|assistant|>{metadata}\n{content}`.
   */
  metadata?: string;
}

/** A JSON Schema object (draft 2020-12 as produced by `z.toJSONSchema`). */
export type JsonSchema = Record<string, unknown>;

/** A tool as the model sees it: rendered into the prompt by the chat template, and a branch of the tool-call grammar. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  parameters: JsonSchema;
}

/** A prompt: plain text, chat messages (rendered with the model's chat template), or token ids. */
export type ModelInput = string | ChatMessage[] | number[];

/**
 * A user stage of the logits pipeline: adjusts one step's logits (vocabulary-sized) in place, e.g. sets a token's
 * logit to -Infinity to ban it. `generatedIds` are the tokens generated so far in this call (not the prompt).
 * Runs after the repetition penalty, before the grammar mask and the sampler.
 */
export type LogitsProcessor = (logits: Float32Array, generatedIds: readonly number[]) => void;

export interface GenerateOptions {
  /** Maximum number of tokens to generate. Defaults to 256. */
  maxNewTokens?: number;
  /** 0 means greedy. Defaults to the model's generation_config, else 0. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling; 0 disables. Defaults to 0. */
  topK?: number;
  /** Nucleus sampling threshold in (0, 1]; 1 disables. Defaults to 1. */
  topP?: number;
  /** Penalty > 1 lowers the score of tokens already in the sequence. Defaults to 1 (off). */
  repetitionPenalty?: number;
  /** Seed of the sampling RNG, for reproducible sampled runs. Defaults to a random seed. */
  seed?: number;
  /** Strings that end generation; detected across token boundaries and not included in the text. */
  stop?: string[];
  /** Aborting ends generation with finishReason 'abort'. */
  signal?: AbortSignal;
  /** Constrain the output to JSON valid for this schema (zod or JSON Schema). */
  schema?: z.ZodType | JsonSchema;
  /**
   * Tools for GLM native tool calling: rendered into the chat prompt (ChatMessage[] input), and, unless
   * `constrained` is false, the output is constrained to either one call (`name\n{json args}`) or an answer
   * (`\n` then free text, or JSON valid for `schema` when given).
   */
  tools?: ToolSpec[];
  /**
   * With `tools`: 'auto' lets the output call a tool or answer; 'none' keeps the tools in the prompt (a prompt that
   * showed them stays an extension of the previous one, for the prefix cache) but constrains the output to the
   * answer branch (`\n` then free text, or JSON valid for `schema`); 'required' constrains it to one call.
   * Unconstrained (`constrained: false`) it cannot be enforced and only the prompt is built. Defaults to 'auto'.
   */
  toolChoice?: 'auto' | 'none' | 'required';
  /** Grammar-constrain `schema` / `tools` output. Defaults to true. */
  constrained?: boolean;
  /** Reuse the KV cache of the previous sequence's shared prefix. Defaults to true. */
  prefixCache?: boolean;
  /**
   * Functions applied in order to each step's logits, in place, before the grammar mask and sampling (as
   * transformers.js logits processors). Defaults to none.
   */
  logitsProcessors?: LogitsProcessor[];
  /**
   * Jump-forward decoding of constrained (`schema` / `tools`) output: where the grammar allows exactly one token
   * (JSON punctuation, a key's tokens, the closing of an object), it is appended without sampling and run in the
   * same forward as the tokens before it. The output is the token-by-token output (greedy or seeded: the sampler
   * skips the draw it would have made). User `logitsProcessors` are not called at those positions, so with them
   * it is off unless asked for. Defaults to true for constrained generations without `logitsProcessors`.
   */
  jumpForward?: boolean;
  /**
   * Speculative draft verification: each step proposes up to `maxTokens` draft tokens and verifies them in one
   * forward, keeping the prefix the model agrees with (greedy: the same output as without; sampling: the same
   * distribution, standard speculative acceptance, but another seeded stream). Defaults to off.
   */
  draft?: DraftOptions;
}

/**
 * Where drafts come from: `prompt-lookup` matches the last n-gram (up to `maxNgram`, default 3) earlier in the
 * prompt and output and proposes what followed it; `grammar` (constrained generations) proposes the tokenizer's
 * own tokenization of the text the grammar forces next (a key, `": "`, the rest of an enum value), which a trained
 * model almost always writes but which jump-forward cannot append unverified (other tokenizations spell it too);
 * `{ drafter }` is the caller's (see drafter.ts). `maxTokens`
 * is the most draft tokens verified per forward (default 4, at most 64).
 */
export type DraftOptions =
  | { kind: 'prompt-lookup'; maxTokens?: number; maxNgram?: number }
  | { kind: 'grammar'; maxTokens?: number }
  | { drafter: Drafter; maxTokens?: number };

/** How a generation used its forwards (jump-forward, draft verification). */
export interface DecodingUsage {
  /** Forwards after the prefill (each runs one token, or several with forced or draft tokens). */
  forwards: number;
  /** Tokens appended by jump-forward without sampling. */
  forcedTokens: number;
  /** Draft tokens proposed and run through the model. */
  draftTokens: number;
  /** Draft tokens accepted (emitted as they were proposed). */
  acceptedDraftTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerationUsage {
  /** Tokens in the prompt. */
  promptTokens: number;
  /** Tokens generated. */
  completionTokens: number;
  /** Prompt tokens actually run through the model (the rest came from the prefix cache). */
  prefillTokens: number;
  /** Prompt tokens whose KV was reused from the prefix cache. */
  cachedTokens: number;
  /** Forwards, forced and draft tokens of the decode: GlmModel reports it for constrained (`schema`, `tools`) or drafted generations. */
  decoding?: DecodingUsage;
}

export interface GenerationTimings {
  /** Wall time of the prefill forward pass(es). */
  prefillMs: number;
  /** From the call to the first generated token. */
  timeToFirstTokenMs: number;
  /** Wall time of the decode steps after the first token. */
  decodeMs: number;
  /** Generated tokens after the first, per second of decode time. */
  decodeTokensPerSecond: number;
  totalMs: number;
}

export interface GenerateResult {
  text: string;
  /** The generated token ids only (not the prompt). */
  tokenIds: number[];
  finishReason: FinishReason;
  usage: GenerationUsage;
  timings: GenerationTimings;
}

export type GenerationEvent =
  | { type: 'token'; id: number; text: string }
  | ({ type: 'end' } & GenerateResult);

export interface ModelInfo {
  family: 'glm' | 'glm4' | 'chatglm';
  vocabSize: number;
  contextLength: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
  eosTokenIds: number[];
}

export interface LanguageModel {
  readonly info: ModelInfo;
  /**
   * The model's chat format for conversations with tools (how it writes calls and answers; chat-format.ts). The
   * agent parses and prompts by it. Defaults (when absent) to the GLM-4 layout, `defaultChatFormat`.
   */
  readonly chatFormat?: ChatFormat;
  /**
   * How many generations the model runs at once (GlmModel: its KV slots, stepped together by continuous batching);
   * more wait their turn inside the model. Callers that queue model work (the workflow executors) run that many at
   * once. Absent: 1.
   */
  readonly sequences?: number;
  generate(input: ModelInput, options?: GenerateOptions): Promise<GenerateResult>;
  stream(input: ModelInput, options?: GenerateOptions): AsyncGenerator<GenerationEvent, void, undefined>;
  /** Token ids of plain text, without special tokens. */
  tokenize(text: string): number[];
  /** Tokens of a prompt as generate would see it (chat messages rendered with the template and tools). */
  countTokens(input: ModelInput, options?: { tools?: ToolSpec[] }): number;
  dispose(): Promise<void>;
  /**
   * Writes the cached sequence (ids and KV) to `file`, as node-llama-cpp's `saveStateToFile`. Optional: models
   * without a KV cache of their own (scripted models, remote adapters) leave it out.
   */
  saveState?(file: string, options?: SaveStateOptions): Promise<ModelStateInfo>;
  /** Puts a sequence `saveState` wrote back in the cache: the next prompt that extends its ids prefills only the rest. */
  loadState?(file: string): Promise<ModelStateInfo>;
}

export interface SaveStateOptions {
  /**
   * Save only the longest prefix of these ids that the cache holds (a conversation's ids, without what a
   * generation appended after them). Defaults to everything the cache holds.
   */
  tokenIds?: readonly number[];
  /** Strings stored in the file's header (a workflow's run and step). Defaults to none. */
  meta?: Record<string, string>;
}

/** A state file written or read. */
export interface ModelStateInfo {
  file: string;
  /** Positions (token ids) in the file. */
  tokens: number;
  /** Size of the file: the KV bytes, the ids, a header and a checksum. */
  bytes: number;
}

/** How many generations `model` runs at once: its `sequences`, 1 when it does not say (or no model is given). */
export function modelSequences(model: Pick<LanguageModel, 'sequences'> | undefined): number {
  const sequences = model?.sequences;
  return typeof sequences === 'number' && Number.isInteger(sequences) && sequences >= 1 ? sequences : 1;
}

/**
 * The result of a generation stream: its `end` event without the `type` field. What `generate` returns for a
 * LanguageModel whose `stream` does the work; throws if the stream ends without an `end` event.
 */
export async function generateResultOf(events: AsyncIterable<GenerationEvent>): Promise<GenerateResult> {
  for await (const event of events) {
    if (event.type === 'end') {
      const { type: _type, ...result } = event;
      return result;
    }
  }
  throw new GenerationError('Generation ended without a result.');
}
