/**
 * The autoglm AI SDK provider: `createAutoglm({ models })` gives a function from a model name to an AI SDK
 * language model, so code written for the AI SDK (or Mastra) swaps a cloud model for a local GLM in one line.
 *
 * ```ts
 * const autoglm = createAutoglm({ models: { glm: await GlmModel.load(dir) } });
 * const { text } = await generateText({ model: autoglm('glm'), prompt: 'Hello' });
 * ```
 */
import { AiSdkProviderError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import { GlmLanguageModel } from './glm-language-model';

export interface AutoglmProviderOptions {
  /** The models by the names calls use. */
  models: Record<string, LanguageModel>;
  /** maxOutputTokens when a call sets none. Defaults to 256. */
  defaultMaxTokens?: number;
}

export interface AutoglmProvider {
  (modelId: string): GlmLanguageModel;
  languageModel(modelId: string): GlmLanguageModel;
}

export function createAutoglm(options: AutoglmProviderOptions): AutoglmProvider {
  const cache = new Map<string, GlmLanguageModel>();
  const languageModel = (modelId: string): GlmLanguageModel => {
    const model = options.models[modelId];
    if (model === undefined || !Object.hasOwn(options.models, modelId)) {
      throw new AiSdkProviderError(`No model "${modelId}" in createAutoglm({ models }); known: ${Object.keys(options.models).join(', ') || '(none)'}.`, {
        details: { modelId },
      });
    }
    let wrapped = cache.get(modelId);
    if (wrapped === undefined) {
      wrapped = new GlmLanguageModel(model, { modelId, ...(options.defaultMaxTokens === undefined ? {} : { defaultMaxTokens: options.defaultMaxTokens }) });
      cache.set(modelId, wrapped);
    }
    return wrapped;
  };
  return Object.assign((modelId: string) => languageModel(modelId), { languageModel });
}
