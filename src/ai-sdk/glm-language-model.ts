/**
 * A GLM model as an AI SDK language model (`@ai-sdk/provider` LanguageModelV3): `generateText`, `streamText`,
 * `generateObject` and Mastra run it locally, with tool calls and JSON output grammar-constrained by the model.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { randomBytes } from 'node:crypto';
import type { FinishReason, GenerateResult, GenerationUsage, LanguageModel } from '../models/language-model';
import { GlmOutputSplitter } from '../server/glm-output-splitter';
import { toGlmCall } from './ai-sdk-prompt';

export interface GlmLanguageModelOptions {
  /** The id the SDK reports (`response.modelId`). Defaults to `glm`. */
  modelId?: string;
  /** maxOutputTokens when a call sets none. Defaults to 256. */
  defaultMaxTokens?: number;
}

function usageOf(usage: GenerationUsage): LanguageModelV3Usage {
  return {
    inputTokens: { total: usage.promptTokens, noCache: usage.promptTokens - usage.cachedTokens, cacheRead: usage.cachedTokens, cacheWrite: undefined },
    outputTokens: { total: usage.completionTokens, text: usage.completionTokens, reasoning: undefined },
  };
}

function finishOf(reason: FinishReason, toolCall: boolean): LanguageModelV3FinishReason {
  if (reason === 'length') return { unified: 'length', raw: reason };
  if (reason === 'abort') return { unified: 'other', raw: reason };
  return { unified: toolCall ? 'tool-calls' : 'stop', raw: reason };
}

const callId = () => `call_${randomBytes(9).toString('base64url')}`;

export class GlmLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'autoglm';
  readonly modelId: string;
  /** No URL is ever fetched: the SDK downloads nothing for this model, and the model takes text only. */
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #model: LanguageModel;
  readonly #defaultMaxTokens: number;

  constructor(model: LanguageModel, options: GlmLanguageModelOptions = {}) {
    this.#model = model;
    this.modelId = options.modelId ?? 'glm';
    this.#defaultMaxTokens = options.defaultMaxTokens ?? 256;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const call = toGlmCall(options, this.#defaultMaxTokens);
    const splitter = new GlmOutputSplitter(call.tools.length > 0);
    let result: GenerateResult | undefined;
    for await (const event of this.#model.stream(call.messages, call.options)) {
      if (event.type === 'token') splitter.push(event.text);
      else result = event;
    }
    splitter.end();
    const content: LanguageModelV3Content[] = [];
    if (splitter.text !== '') content.push({ type: 'text', text: splitter.text });
    const toolCall = splitter.toolCall;
    if (toolCall !== undefined) content.push({ type: 'tool-call', toolCallId: callId(), toolName: toolCall.name, input: toolCall.arguments });
    return {
      content,
      finishReason: finishOf(result!.finishReason, toolCall !== undefined),
      usage: usageOf(result!.usage),
      response: { modelId: this.modelId, timestamp: new Date() },
      warnings: call.warnings,
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const call = toGlmCall(options, this.#defaultMaxTokens);
    const events = this.#model.stream(call.messages, call.options);
    const modelId = this.modelId;
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      async start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: call.warnings });
        controller.enqueue({ type: 'response-metadata', modelId, timestamp: new Date() });
        const splitter = new GlmOutputSplitter(call.tools.length > 0);
        let textOpen = false;
        let toolId: string | undefined;
        const emit = (parts: ReturnType<GlmOutputSplitter['push']>) => {
          for (const part of parts) {
            if (part.type === 'text') {
              if (!textOpen) controller.enqueue({ type: 'text-start', id: 'text-0' });
              textOpen = true;
              controller.enqueue({ type: 'text-delta', id: 'text-0', delta: part.delta });
            } else if (part.type === 'tool-call-start') {
              toolId = callId();
              controller.enqueue({ type: 'tool-input-start', id: toolId, toolName: part.name });
            } else {
              controller.enqueue({ type: 'tool-input-delta', id: toolId!, delta: part.delta });
            }
          }
        };
        try {
          let result: GenerateResult | undefined;
          for await (const event of events) {
            if (event.type === 'token') emit(splitter.push(event.text));
            else result = event;
          }
          emit(splitter.end());
          if (textOpen) controller.enqueue({ type: 'text-end', id: 'text-0' });
          const toolCall = splitter.toolCall;
          if (toolCall !== undefined && toolId !== undefined) {
            controller.enqueue({ type: 'tool-input-end', id: toolId });
            controller.enqueue({ type: 'tool-call', toolCallId: toolId, toolName: toolCall.name, input: toolCall.arguments });
          }
          controller.enqueue({ type: 'finish', finishReason: finishOf(result!.finishReason, toolCall !== undefined), usage: usageOf(result!.usage) });
          controller.close();
        } catch (error) {
          controller.enqueue({ type: 'error', error });
          controller.close();
        }
      },
      async cancel() {
        await events.return(undefined);
      },
    });
    return { stream };
  }
}
