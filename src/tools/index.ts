// autoglm/tools: the tool contract, registry, plugins, file sandbox, document, PDF (pdf.js loaded at first use) and finance tools.
export type * from './tool';
export { defineTool, type DefineToolOptions } from './define-tool';
export { ToolRegistry, type ToolRegistryOptions } from './tool-registry';
export { mcpToolNameToPart, type McpServerOptions } from './mcp/mcp-client';
export { definePlugin, loadPlugin, type Plugin, type PluginSetupContext } from './plugin';
export { FileSandbox, type FileSandboxOptions } from './file-sandbox';
export { fileTools } from './file-tools';
export { documentTools } from './documents/document-tools';
export { chunkDocument, type ChunkDocumentOptions, type DocumentChunk, type DocumentPage } from './documents/chunk-document';
export { summarizeDocument, type SummarizeDocumentOptions, type DocumentSummary } from './documents/summarize-document';
export {
  readPdf,
  PdfSearchIndex,
  PdfIndexCache,
  createPdfTools,
  pdfTools,
  defaultRankingWeights,
  type ReadPdfOptions,
  type PdfDocument,
  type PdfPage,
  type PdfInfo,
  type PdfTable,
  type PdfSearchHit,
  type PdfSearchOptions,
  type RankingWeights,
  type PdfIndexCacheOptions,
  type PdfToolsOptions,
  createPdfTablesTool,
  repairPageText,
  type TextHygieneReport,
} from './pdf';
export { financeTools, keyFiguresTool } from './finance/key-figures-tool';
export {
  extractKeyFigures,
  type ExtractKeyFiguresOptions,
  type KeyFigure,
  type KeyFigures,
  type FilingPage,
} from './finance/extract-key-figures';
export { defaultLineItemSynonyms, type KeyFigureName, type LineItemSynonyms } from './finance/line-item-synonyms';
export type { FigureUnit } from './finance/statement-heading';
export {
  readStatementTables,
  readFilingTables,
  type StatementTable,
  type StatementTableKind,
  type TableRow,
  type TableColumn,
  type RowMeasure,
  type ReadStatementTablesOptions,
} from './finance/read-statement-tables';
