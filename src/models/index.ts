// autoglm/models: GlmModel over ONNX Runtime (loaded at first use), tokenizer, constrained decoding, tiny models.
export type * from './language-model';
export type { TokenConstraint } from './generation/token-constraint';
export { seededRandom } from './generation/random-generator';
export type { Drafter, DraftContext } from './generation/drafter';
export { PromptLookupDrafter, type PromptLookupDrafterOptions } from './generation/prompt-lookup-drafter';
export { GlmModel, type GlmModelLoadOptions, type ConstraintFactory } from './glm-model';
export { GlmTokenizer, type TextTokenizer } from './glm-tokenizer';
export { DTYPE_SUFFIXES, type ModelDtype } from './model-files';
export { isCudaProviderInstalled, type ExecutionProvider, type GraphOptimizationLevel } from './onnx-backend';
export {
  GrammarCompiler,
  type GrammarCompilerOptions,
  type ConstraintRequest,
  type GrammarCompilerStatistics,
} from './constraints/grammar-compiler';
export { createTinyGlm, type TinyGlmInfo } from './tiny/create-tiny-glm';
export type { TinyGlmOptions, ResolvedTinyGlmOptions } from './tiny/tiny-glm-options';
export { GLM_SPECIAL_TOKENS, type GlmSpecialToken } from './tiny/tiny-tokenizer';
export { pullModel, type PullModelOptions, type PullModelResult, type PullProgress } from './pull-model';
export {
  resolveModelDirectory,
  cachedModelDirectory,
  defaultModelCacheDir,
  isHubModelId,
  type ModelCacheOptions,
  type PulledModel,
} from './model-cache';
export {
  defaultChatFormat,
  describeChatFormat,
  isToolName,
  toolNamePattern,
  type ChatFormat,
  type ToolPresentation,
} from './chat-format/chat-format';
export { ChatTemplate, type ChatTemplateOptions, type ChatTemplateContext } from './chat-format/chat-template';
export { detectChatFormat, type DetectChatFormatOptions } from './chat-format/detect-chat-format';
export { loadChatTemplates, type ChatTemplates } from './chat-format/load-chat-templates';
export { renderChatSegments, type ChatSegment } from './chat-format/render-chat';
export type { TinyChatTemplate } from './tiny/glm-chat-template';
export type { GlmTokenizerLoadOptions } from './glm-tokenizer';
