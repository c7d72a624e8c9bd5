// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// tools/pdf: PDF reading, pdf.extract and pdf.search (issue 3)
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
} from './tools/pdf';
