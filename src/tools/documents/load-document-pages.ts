/**
 * A document file as pages of text: PDFs through readPdf, text files split on form feeds.
 */
import { DocumentError } from '../../errors';
import { readPdf } from '../pdf/read-pdf';
import type { FileAccess } from '../tool';
import type { DocumentPage } from './chunk-document';
import { splitTextPages } from './document-chunk-tool';

export interface LoadDocumentPagesOptions {
  /** Sandboxed file access (a tool's `ctx.files`). Required. */
  files: FileAccess;
  /** Refuse files larger than this. Defaults to 100 MiB. */
  maxBytes?: number;
  /** Refuse PDFs with more pages than this. Defaults to readPdf's default (2000). */
  maxPages?: number;
  /** Cancels reading. */
  signal?: AbortSignal;
}

const pdfHeader = new TextEncoder().encode('%PDF-');

/** Throws DocumentError for an empty, binary, oversized or unreadable file; PathOutsideSandboxError from `files`. */
export async function loadDocumentPages(path: string, options: LoadDocumentPagesOptions): Promise<DocumentPage[]> {
  const maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  const bytes = await options.files.readFile(path, { maxBytes: maxBytes + 1 });
  if (bytes.length > maxBytes) {
    throw new DocumentError(`Cannot read "${path}": it is larger than the limit of ${maxBytes} bytes.`, {
      details: { file: path, cause: 'too-large', maxBytes },
    });
  }
  if (path.toLowerCase().endsWith('.pdf') || indexOf(bytes.subarray(0, 1024), pdfHeader) >= 0) {
    const document = await readPdf(bytes, { fileName: path, maxBytes, maxPages: options.maxPages, signal: options.signal });
    return document.pages;
  }
  if (bytes.length === 0) {
    throw new DocumentError(`Cannot read "${path}": the file is empty (zero bytes).`, { details: { file: path, cause: 'empty' } });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new DocumentError(`Cannot read "${path}": it is neither a PDF nor UTF-8 text.`, { cause, details: { file: path, cause: 'not-text' } });
  }
  if (text.includes('\0')) {
    throw new DocumentError(`Cannot read "${path}": it is a binary file, neither a PDF nor text.`, { details: { file: path, cause: 'binary' } });
  }
  return splitTextPages(text);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let index = 0; index + needle.length <= haystack.length; index += 1) {
    for (let offset = 0; offset < needle.length; offset += 1) if (haystack[index + offset] !== needle[offset]) continue outer;
    return index;
  }
  return -1;
}
