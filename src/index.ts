// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// Finance: deterministic headline figures of filings (issue 6).
export { financeTools, keyFiguresTool } from './tools/finance/key-figures-tool';
export {
  extractKeyFigures,
  type ExtractKeyFiguresOptions,
  type KeyFigure,
  type KeyFigures,
  type FilingPage,
} from './tools/finance/extract-key-figures';
export { defaultLineItemSynonyms, type KeyFigureName, type LineItemSynonyms } from './tools/finance/line-item-synonyms';
export type { FigureUnit } from './tools/finance/statement-heading';
