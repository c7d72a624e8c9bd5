/**
 * The pdf.js work of `readPdf`, run inside its worker thread (pdf-worker.ts): bytes in, page texts, metadata and
 * tables out, through pdf-parse v2 (pdf.js 5). Only `data` bytes are given to pdf.js, never a URL, and its data files
 * come from local folders, so reading a document never touches the network.
 */
import { PDFParse } from 'pdf-parse';
import { DocumentError } from '../../errors';
import { pdfjsLocalAssets } from './pdfjs-local-assets';
import { repairPageText } from './repair-page-text';
import type { PdfDocument, PdfInfo, PdfPage, PdfTable } from './read-pdf';

/** What the worker needs to know: the limits already validated by `readPdf`. */
export interface ParsePdfRequest {
  fileName: string;
  maxPages: number;
  pages: number[] | undefined;
  tables: boolean;
  maxTablePages: number;
}

/** Parse `bytes` (pdf.js may detach their buffer). Throws DocumentError for limits, pdf.js errors as they are. */
export async function parsePdf(bytes: Uint8Array, request: ParsePdfRequest): Promise<PdfDocument> {
  const parser = new PDFParse({
    data: bytes,
    verbosity: 0,
    // No eval of font programs, no system fonts, no fetch from the worker: plain local parsing only.
    isEvalSupported: false,
    useSystemFonts: false,
    useWorkerFetch: false,
    disableFontFace: true,
    ...pdfjsLocalAssets(),
  });
  try {
    return await parse(parser, request);
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}

async function parse(parser: PDFParse, request: ParsePdfRequest): Promise<PdfDocument> {
  const { fileName } = request;
  const infoResult = await parser.getInfo();
  const pageCount = infoResult.total;
  if (pageCount > request.maxPages) {
    throw new DocumentError(
      `Cannot read "${fileName}": it has ${pageCount} pages, over the limit of ${request.maxPages}. Raise \`maxPages\` or ask for a subset with \`pages\`.`,
      { details: { file: fileName, cause: 'too-many-pages', pageCount, maxPages: request.maxPages } },
    );
  }
  if (pageCount === 0) {
    throw new DocumentError(`Cannot read "${fileName}": the PDF has no pages.`, { details: { file: fileName, cause: 'no-pages' } });
  }
  const outside = request.pages?.filter((page) => page > pageCount) ?? [];
  if (outside.length > 0) {
    throw new DocumentError(
      `Cannot read pages ${outside.join(', ')} of "${fileName}": it has ${pageCount} pages (numbered from 1).`,
      { details: { file: fileName, cause: 'page-out-of-range', pages: outside, pageCount } },
    );
  }
  const selected = request.pages ?? Array.from({ length: pageCount }, (_, index) => index + 1);
  const printed: PdfPage[] = [];
  for (const number of selected) {
    const textResult = await parser.getText({ partial: [number], pageJoiner: '' });
    printed.push({ number, text: textResult.pages[0]?.text ?? '' });
  }
  const { pages, report: textHygiene } = repairPageText(printed);

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

  const document: PdfDocument = { pages, info, textHygiene };
  if (textHygiene.unrecoveredGlyphs > 0) {
    const where = pages.filter((page) => page.unrecoveredGlyphs).map((page) => page.number);
    document.warnings = [
      `${textHygiene.unrecoveredGlyphs} glyph(s) on page(s) ${where.join(', ')} have no Unicode in the PDF's fonts and no ligature reading; they are shown as U+FFFD.`,
    ];
  }
  if (request.tables) {
    const tables: PdfTable[] = [];
    for (const number of selected.slice(0, request.maxTablePages)) {
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

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

function isoDate(value: Date | null | undefined): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}
