/**
 * `autoglm/ai-sdk`: the Vercel AI SDK provider over local GLM models.
 */
export { createAutoglm, type AutoglmProvider, type AutoglmProviderOptions } from './create-autoglm';
export { GlmLanguageModel, type GlmLanguageModelOptions } from './glm-language-model';
