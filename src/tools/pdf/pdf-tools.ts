/**
 * The built-in PDF tools: `pdf.extract` (page texts, metadata, tables), `pdf.search` (ranked page chunks for a
 * question) and `pdf.tables` (financial statement tables with numeric cells). Both read the file through the sandboxed `ctx.files`, honour `ctx.signal`, and throw DocumentError
 * for documents they cannot read (the registry returns it to the model as a value).
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { AbortError } from '../../errors';
import { defineTool } from '../define-tool';
import type { Tool } from '../tool';
import { PdfIndexCache } from './pdf-index-cache';
import { createPdfTablesTool } from './pdf-tables-tool';
import type { PdfSearchIndex } from './pdf-search-index';
import { readPdf } from './read-pdf';

export interface PdfToolsOptions {
  /** Refuse documents with more pages than this. Defaults to 2000. */
  maxPages?: number;
  /** Refuse documents larger than this many bytes. Defaults to 100 MiB. */
  maxBytes?: number;
  /** Stop reading a document after this many milliseconds. Defaults to 60000. */
  readTimeoutMs?: number;
  /** Search indexes kept in memory (keyed by content hash). Defaults to 8. */
  cacheEntries?: number;
  /** Pages scanned for tables when pdf.extract is asked for them. Defaults to 50. */
  maxTablePages?: number;
}

const pageNumbers = z.array(z.number().int().min(1)).min(1).max(5000);

export const pdfExtractInput = z.object({
  path: z.string().min(1).describe('Path of the PDF file'),
  pages: pageNumbers.optional().describe('1-based pages to extract; all pages when absent'),
  tables: z.boolean().optional().describe('Also detect ruled tables (slower); default false'),
});

export const pdfExtractOutput = z.object({
  pages: z.array(z.object({ number: z.number().int(), text: z.string(), unrecoveredGlyphs: z.number().int().optional() })),
  info: z.object({
    pageCount: z.number().int(),
    title: z.string().optional(),
    author: z.string().optional(),
    subject: z.string().optional(),
    keywords: z.string().optional(),
    creator: z.string().optional(),
    producer: z.string().optional(),
    creationDate: z.string().optional(),
    modificationDate: z.string().optional(),
  }),
  tables: z.array(z.object({ page: z.number().int(), rows: z.array(z.array(z.string())) })).optional(),
  textHygiene: z.object({ recoveredGlyphs: z.number().int(), unrecoveredGlyphs: z.number().int(), joinedHyphens: z.number().int() }),
  warnings: z.array(z.string()).optional(),
});

export const pdfSearchInput = z.object({
  path: z.string().min(1).describe('Path of the PDF file'),
  query: z.string().min(1).max(2000).describe('The question or keywords to look for'),
  topK: z.number().int().min(1).max(50).default(5).describe('Number of hits (distinct pages) to return'),
});

export const pdfSearchOutput = z.object({
  hits: z.array(z.object({ page: z.number().int(), text: z.string(), score: z.number() })),
});

/** Make the PDF tools with the given limits. `pdfTools` holds a pair made with the defaults. */
export function createPdfTools(options: PdfToolsOptions = {}): Tool[] {
  const cache = new PdfIndexCache({ maxEntries: options.cacheEntries ?? 8 });
  const limits = { maxPages: options.maxPages, maxBytes: options.maxBytes, timeoutMs: options.readTimeoutMs };

  const extract = defineTool({
    name: 'pdf.extract',
    description:
      'Extract the text of a PDF page by page (1-based page numbers) with its metadata (page count, title, dates) and, if asked, ruled tables.',
    input: pdfExtractInput,
    output: pdfExtractOutput,
    async execute(args, ctx) {
      const bytes = await ctx.files.readFile(args.path);
      return readPdf(bytes, {
        ...limits,
        fileName: basename(args.path),
        pages: args.pages,
        tables: args.tables ?? false,
        maxTablePages: options.maxTablePages,
        signal: ctx.signal,
      });
    },
  });

  const search = defineTool({
    name: 'pdf.search',
    description:
      'Find the pages of a PDF that answer a question (e.g. "FY2020 capital expenditure in the cash flow statement"). Returns the best page chunks, best first, with 1-based page numbers.',
    input: pdfSearchInput,
    output: pdfSearchOutput,
    async execute(args, ctx) {
      const bytes = await ctx.files.readFile(args.path);
      const readOptions = { ...limits, fileName: basename(args.path), signal: ctx.signal };
      let index: PdfSearchIndex;
      try {
        index = await cache.get(bytes, readOptions);
      } catch (error) {
        // A concurrent call that started the shared build was cancelled; that build is dropped, so build again.
        if (!(error instanceof AbortError) || ctx.signal.aborted) throw error;
        index = await cache.get(bytes, readOptions);
      }
      // The index may come from a build another call started: this call's own cancellation still wins.
      if (ctx.signal.aborted) {
        throw new AbortError(`Searching "${readOptions.fileName}" was cancelled.`, { cause: ctx.signal.reason, details: { file: readOptions.fileName } });
      }
      return { hits: index.search(args.query, { topK: args.topK }) };
    },
  });

  return [extract, search, createPdfTablesTool(limits)];
}

/** `pdf.extract`, `pdf.search` and `pdf.tables` with default limits. */
export const pdfTools: Tool[] = createPdfTools();
