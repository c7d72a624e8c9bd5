// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// tools: registry, plugins, file sandbox, file and document tools (issue 3)
export { ToolRegistry, type ToolRegistryOptions } from './tools/tool-registry';
export { definePlugin, loadPlugin, type Plugin, type PluginSetupContext } from './tools/plugin';
export { FileSandbox, type FileSandboxOptions } from './tools/file-sandbox';
export { fileTools } from './tools/file-tools';
export { documentTools } from './tools/documents/document-tools';
export { chunkDocument, type ChunkDocumentOptions, type DocumentChunk, type DocumentPage } from './tools/documents/chunk-document';
export { summarizeDocument, type SummarizeDocumentOptions, type DocumentSummary } from './tools/documents/summarize-document';
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
