/**
 * The PDF reading layer: bytes in, page texts, metadata and (optionally) tables out, through pdf-parse v2
 * (pdf.js 5). Only `data` bytes are given to pdf.js, never a URL, and its data files come from local folders, so
 * reading a document never touches the network. Every failure is a DocumentError naming the file and the cause.
 */
import type { PDFParse } from 'pdf-parse';
import { AbortError, DocumentError } from '../../errors';
import { maxTimerDelayMs, withDeadline } from '../../with-deadline';
import { pdfjsLocalAssets } from './pdfjs-local-assets';

export interface ReadPdfOptions {
  /** The document's name, used in error messages. Defaults to `'document.pdf'`. */
  fileName?: string;
  /** Refuse documents with more pages than this. Defaults to 2000. */
  maxPages?: number;
  /** Refuse documents larger than this many bytes. Defaults to 100 MiB. */
  maxBytes?: number;
  /** Read only these 1-based pages (in ascending order, duplicates removed). Defaults to all pages. */
  pages?: number[];
  /** Also detect ruled tables (pdf-parse `getTable`). Defaults to false: it costs a full operator-list pass. */
  tables?: boolean;
  /** Look for tables on at most this many of the selected pages (the first ones). Defaults to 50. */
  maxTablePages?: number;
  /** Give up after this many milliseconds with a DocumentError. Defaults to 60000. */
  timeoutMs?: number;
  /** Cancels the read with an AbortError. */
  signal?: AbortSignal;
}

export interface PdfPage {
  /** 1-based page number. */
  number: number;
  text: string;
}

export interface PdfTable {
  /** 1-based page number the table is on. */
  page: number;
  /** Cell texts, row by row. */
  rows: string[][];
}

export interface PdfInfo {
  pageCount: number;
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  /** ISO 8601, when the document states it. */
  creationDate?: string;
  /** ISO 8601, when the document states it. */
  modificationDate?: string;
}

export interface PdfDocument {
  pages: PdfPage[];
  info: PdfInfo;
  /** Present when `tables: true` was asked for. */
  tables?: PdfTable[];
}

interface ResolvedOptions {
  fileName: string;
  maxPages: number;
  maxBytes: number;
  pages: number[] | undefined;
  tables: boolean;
  maxTablePages: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

function positiveInteger(value: number | undefined, field: string, fallback: number, maximum = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > maximum) {
    throw new DocumentError(`Expected readPdf option \`${field}\` to be an integer ${maximum === Number.MAX_SAFE_INTEGER ? '>= 1' : `in [1, ${maximum}]`}, got ${String(value)}.`, {
      details: { field, value },
    });
  }
  return value;
}

function resolveOptions(options: ReadPdfOptions): ResolvedOptions {
  const fileName = options.fileName ?? 'document.pdf';
  let pages: number[] | undefined;
  if (options.pages !== undefined) {
    for (const page of options.pages) positiveInteger(page, 'pages', 1);
    pages = [...new Set(options.pages)].sort((a, b) => a - b);
  }
  return {
    fileName,
    maxPages: positiveInteger(options.maxPages, 'maxPages', 2000),
    maxBytes: positiveInteger(options.maxBytes, 'maxBytes', 100 * 1024 * 1024),
    pages,
    tables: options.tables ?? false,
    maxTablePages: positiveInteger(options.maxTablePages, 'maxTablePages', 50),
    timeoutMs: positiveInteger(options.timeoutMs, 'timeoutMs', 60_000, maxTimerDelayMs),
    signal: options.signal,
  };
}

const encoder = new TextEncoder();
const PDF_HEADER = encoder.encode('%PDF-');
const EOF_MARKER = encoder.encode('%%EOF');

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = Math.max(0, from); i <= Math.min(to, haystack.length) - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Cheap structural checks that name the cause better than pdf.js's "Invalid PDF structure". */
function checkBytes(bytes: Uint8Array, options: ResolvedOptions): void {
  const { fileName } = options;
  if (bytes.length === 0) {
    throw new DocumentError(`Cannot read "${fileName}": the file is empty (zero bytes). Check that it was fully written or downloaded.`, {
      details: { file: fileName, cause: 'empty' },
    });
  }
  if (bytes.length > options.maxBytes) {
    throw new DocumentError(
      `Cannot read "${fileName}": it is ${bytes.length} bytes, over the limit of ${options.maxBytes} bytes. Raise \`maxBytes\` to read it.`,
      { details: { file: fileName, cause: 'too-many-bytes', bytes: bytes.length, maxBytes: options.maxBytes } },
    );
  }
  // The header may follow a little junk (the PDF spec allows it within the first 1024 bytes).
  if (indexOfBytes(bytes, PDF_HEADER, 0, 1024) < 0) {
    throw new DocumentError(`Cannot read "${fileName}": it is not a PDF (no "%PDF-" header in its first 1024 bytes).`, {
      details: { file: fileName, cause: 'not-a-pdf' },
    });
  }
}

function looksTruncated(bytes: Uint8Array): boolean {
  return indexOfBytes(bytes, EOF_MARKER, bytes.length - 2048, bytes.length) < 0;
}

function describeFailure(error: unknown, bytes: Uint8Array, fileName: string): DocumentError {
  if (error instanceof DocumentError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    return new DocumentError(
      `Cannot read "${fileName}": it is encrypted and needs a password to open. Provide an unencrypted copy (e.g. \`qpdf --decrypt\`).`,
      { cause: error, details: { file: fileName, cause: 'encrypted' } },
    );
  }
  if (looksTruncated(bytes)) {
    return new DocumentError(
      `Cannot read "${fileName}": it looks truncated (no "%%EOF" marker near its end) and pdf.js failed: ${message}`,
      { cause: error, details: { file: fileName, cause: 'truncated' } },
    );
  }
  return new DocumentError(`Cannot read "${fileName}": the PDF is damaged or unsupported (pdf.js: ${message}).`, {
    cause: error,
    details: { file: fileName, cause: 'damaged' },
  });
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

function isoDate(value: Date | null | undefined): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function parse(parser: PDFParse, options: ResolvedOptions, stop: { stopped: boolean }): Promise<PdfDocument> {
  const { fileName } = options;
  const infoResult = await parser.getInfo();
  if (stop.stopped) throw new DocumentError(`Reading "${fileName}" was stopped.`, { details: { file: fileName } });
  const pageCount = infoResult.total;
  if (pageCount > options.maxPages) {
    throw new DocumentError(
      `Cannot read "${fileName}": it has ${pageCount} pages, over the limit of ${options.maxPages}. Raise \`maxPages\` or ask for a subset with \`pages\`.`,
      { details: { file: fileName, cause: 'too-many-pages', pageCount, maxPages: options.maxPages } },
    );
  }
  if (pageCount === 0) {
    throw new DocumentError(`Cannot read "${fileName}": the PDF has no pages.`, { details: { file: fileName, cause: 'no-pages' } });
  }
  const outside = options.pages?.filter((page) => page > pageCount) ?? [];
  if (outside.length > 0) {
    throw new DocumentError(
      `Cannot read pages ${outside.join(', ')} of "${fileName}": it has ${pageCount} pages (numbered from 1).`,
      { details: { file: fileName, cause: 'page-out-of-range', pages: outside, pageCount } },
    );
  }
  const selected = options.pages ?? Array.from({ length: pageCount }, (_, index) => index + 1);
  const pages: PdfPage[] = [];
  for (const number of selected) {
    // pdf.js in Node parses on this thread through promise chains; yielding to the event loop between pages lets
    // the deadline timer and abort listeners run, so a long document stops within one page of its deadline.
    await yieldToEventLoop();
    if (stop.stopped) throw new DocumentError(`Reading "${fileName}" was stopped.`, { details: { file: fileName } });
    const textResult = await parser.getText({ partial: [number], pageJoiner: '' });
    pages.push({ number, text: textResult.pages[0]?.text ?? '' });
  }

  const raw = (infoResult.info ?? {}) as Record<string, unknown>;
  const dates = infoResult.getDateNode();
  const info: PdfInfo = { pageCount };
  const fields: Array<[keyof PdfInfo, string | undefined]> = [
    ['title', text(raw.Title) ?? text(infoResult.metadata?.get('dc:title'))],
    ['author', text(raw.Author)],
    ['subject', text(raw.Subject)],
    ['keywords', text(raw.Keywords)],
    ['creator', text(raw.Creator)],
    ['producer', text(raw.Producer)],
    ['creationDate', isoDate(dates.CreationDate) ?? isoDate(dates.XmpCreateDate)],
    ['modificationDate', isoDate(dates.ModDate) ?? isoDate(dates.XmpModifyDate)],
  ];
  for (const [key, value] of fields) if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value;

  const document: PdfDocument = { pages, info };
  if (options.tables) {
    const tablePages = selected.slice(0, options.maxTablePages);
    const tables: PdfTable[] = [];
    for (const number of tablePages) {
      await yieldToEventLoop();
      if (stop.stopped) throw new DocumentError(`Reading "${fileName}" was stopped.`, { details: { file: fileName } });
      const tableResult = await parser.getTable({ partial: [number] });
      for (const page of tableResult.pages) {
        for (const rows of page.tables) {
          if (rows.length > 0) tables.push({ page: page.num, rows: rows.map((row) => row.map((cell) => String(cell ?? ''))) });
        }
      }
    }
    document.tables = tables;
  }
  return document;
}

/**
 * Read a PDF from its bytes. The bytes are copied (pdf.js may detach the buffer it is given), so the caller's array
 * stays usable. Throws DocumentError for an empty, non-PDF, truncated, damaged, encrypted or over-limit document,
 * or when `timeoutMs` passes; AbortError when `signal` aborts. pdf.js resources are released on every path.
 */
export async function readPdf(bytes: Uint8Array, options: ReadPdfOptions = {}): Promise<PdfDocument> {
  const resolved = resolveOptions(options);
  if (!(bytes instanceof Uint8Array)) {
    throw new DocumentError(`readPdf expects the bytes of "${resolved.fileName}" as a Uint8Array, got ${typeof bytes}.`, {
      details: { file: resolved.fileName, cause: 'bad-input' },
    });
  }
  checkBytes(bytes, resolved);
  if (resolved.signal?.aborted) {
    throw new AbortError(`Reading "${resolved.fileName}" was cancelled.`, { cause: resolved.signal.reason, details: { file: resolved.fileName } });
  }
  // pdf.js is loaded with the first document, not when autoglm is imported.
  const { PDFParse } = await import('pdf-parse');
  const parser = new PDFParse({
    data: bytes.slice(),
    verbosity: 0,
    // No eval of font programs, no system fonts, no fetch from the worker: plain local parsing only.
    isEvalSupported: false,
    useSystemFonts: false,
    useWorkerFetch: false,
    disableFontFace: true,
    ...pdfjsLocalAssets(),
  });
  const stop = { stopped: false };
  const work = parse(parser, resolved, stop);
  // Whatever happens (success, failure, timeout, abort), release pdf.js's document once the work has settled.
  const released = work
    .then(
      () => parser.destroy(),
      () => parser.destroy(),
    )
    .catch(() => undefined);
  try {
    const document = await withDeadline(() => work, {
      timeoutMs: resolved.timeoutMs,
      signal: resolved.signal,
      onTimeout: () =>
        new DocumentError(`Reading "${resolved.fileName}" took longer than ${resolved.timeoutMs} ms and was stopped. Raise \`timeoutMs\` or read fewer pages.`, {
          details: { file: resolved.fileName, cause: 'timeout', timeoutMs: resolved.timeoutMs },
        }),
      onAbort: (reason) => new AbortError(`Reading "${resolved.fileName}" was cancelled.`, { cause: reason, details: { file: resolved.fileName } }),
    });
    await released;
    return document;
  } catch (error) {
    // On timeout or abort the parse may still be running: stop it at its next step and tear pdf.js down now.
    stop.stopped = true;
    void parser.destroy().catch(() => undefined);
    if (error instanceof AbortError) throw error;
    throw describeFailure(error, bytes, resolved.fileName);
  }
}
