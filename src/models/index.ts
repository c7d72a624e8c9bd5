// autoglm/models: GlmModel over ONNX Runtime (loaded at first use), tokenizer, constrained decoding, tiny models.
export type * from './language-model';
export type { TokenConstraint } from './generation/token-constraint';
export { seededRandom } from './generation/random-generator';
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
