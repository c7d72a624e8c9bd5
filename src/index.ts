// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// Tiny GLM models (src/models/tiny): random-weight model directories for tests and benchmarks.
export { createTinyGlm, type TinyGlmInfo } from './models/tiny/create-tiny-glm';
export type { TinyGlmOptions, ResolvedTinyGlmOptions } from './models/tiny/tiny-glm-options';
export { GLM_SPECIAL_TOKENS, type GlmSpecialToken } from './models/tiny/tiny-tokenizer';

// Generation engine (src/models): GlmModel over ONNX Runtime, its tokenizer, config and file resolution.
export { GlmModel, type GlmModelLoadOptions, type ConstraintFactory } from './models/glm-model';
export { GlmTokenizer, type TextTokenizer } from './models/glm-tokenizer';
export { DTYPE_SUFFIXES, type ModelDtype } from './models/model-files';
export { isCudaProviderInstalled, type ExecutionProvider, type GraphOptimizationLevel } from './models/onnx-backend';

// Grammar-constrained decoding (src/models/constraints): XGrammar over a model's tokenizer.json.
export {
  GrammarCompiler,
  type GrammarCompilerOptions,
  type ConstraintRequest,
  type GrammarCompilerStatistics,
} from './models/constraints/grammar-compiler';
