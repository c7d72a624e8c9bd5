export { readPdf, type ReadPdfOptions, type PdfDocument, type PdfPage, type PdfInfo, type PdfTable } from './read-pdf';
export {
  PdfSearchIndex,
  defaultRankingWeights,
  reciprocalRankFusion,
  type PdfSearchHit,
  type PdfSearchIndexOptions,
  type PdfSearchOptions,
  type RankingWeights,
} from './pdf-search-index';
export { PdfIndexCache, type PdfIndexCacheOptions } from './pdf-index-cache';
export { createPdfTools, pdfTools, type PdfToolsOptions } from './pdf-tools';
export { createPdfTablesTool, pdfTablesInput, pdfTablesOutput } from './pdf-tables-tool';
export { repairPageText, type TextHygieneReport } from './repair-page-text';
