// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';
