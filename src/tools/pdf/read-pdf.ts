/**
 * The PDF reading layer: bytes in, page texts, metadata and (optionally) tables out. pdf.js (through pdf-parse) runs
 * in a worker thread with a heap limit, killed at the deadline or on abort: a hostile document (millions of text
 * operators, pdf.js's own `bomb_giant.pdf`) can neither block the event loop nor run past `timeoutMs` nor exhaust the
 * process's memory. Every failure is a DocumentError naming the file and the cause (AbortError when cancelled).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortError, DocumentError } from '../../errors';
import { maxTimerDelayMs, withDeadline } from '../../with-deadline';
import type { ParsePdfRequest } from './parse-pdf';
import type { PdfWorkerReply, PdfWorkerRequest } from './pdf-worker';
import type { TextHygieneReport } from './repair-page-text';
import { workerEntryFile } from '../../worker-entry-file';

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
  /**
   * Give up after this many milliseconds with a DocumentError; the worker thread parsing the document is killed, so
   * even a document that never finishes parsing stops here. Defaults to 60000.
   */
  timeoutMs?: number;
  /**
   * Heap limit, in MiB, of the worker thread that parses the document (`resourceLimits.maxOldGenerationSizeMb`); a
   * document that needs more fails with a DocumentError instead of exhausting the process. Defaults to 512.
   */
  maxMemoryMb?: number;
  /** Cancels the read with an AbortError. */
  signal?: AbortSignal;
}

export interface PdfPage {
  /** 1-based page number. */
  number: number;
  /** The page text, with lost ligatures and line-end hyphenation repaired (see `repairPageText`). */
  text: string;
  /** Glyphs on this page that the PDF gives no Unicode for and no rule could name (shown as U+FFFD); only when > 0. */
  unrecoveredGlyphs?: number;
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
  /** What text hygiene changed in the read pages: ligatures recovered, glyphs left unknown, hyphens joined. */
  textHygiene: TextHygieneReport;
  /** Problems worth telling the reader of the text, e.g. unknown glyphs; absent when there are none. */
  warnings?: string[];
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
  maxMemoryMb: number;
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
    maxMemoryMb: positiveInteger(options.maxMemoryMb, 'maxMemoryMb', 512),
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
}

/** The header may follow a little junk (the PDF spec allows it within the first 1024 bytes). */
function hasPdfHeader(bytes: Uint8Array): boolean {
  return indexOfBytes(bytes, PDF_HEADER, 0, 1024) >= 0;
}

function looksTruncated(bytes: Uint8Array): boolean {
  return indexOfBytes(bytes, EOF_MARKER, bytes.length - 2048, bytes.length) < 0;
}

function describeFailure(error: unknown, bytes: Uint8Array, fileName: string): DocumentError {
  if (error instanceof DocumentError) return error;
  // Checked only after pdf.js failed: it also reads files whose header is damaged (a few real-world ones are).
  if (!hasPdfHeader(bytes)) {
    return new DocumentError(`Cannot read "${fileName}": it is not a PDF (no "%PDF-" header in its first 1024 bytes).`, {
      cause: error,
      details: { file: fileName, cause: 'not-a-pdf' },
    });
  }
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

function pdfWorkerFile(): string {
  // import.meta.url in ESM (and under vitest); the CommonJS build has no import.meta but has __filename.
  const metaUrl: string | undefined = import.meta.url;
  const here = metaUrl === undefined ? __filename : fileURLToPath(metaUrl);
  return workerEntryFile(here, 'pdf-worker', (message, cause) =>
    new DocumentError(`Cannot start the PDF worker: ${message}.`, { cause, details: { cause: 'worker-missing' } }),
  );
}

/** One parked worker, kept between reads so that each read does not pay for loading pdf.js again (~0.3 s). */
let idle: { worker: Worker; maxMemoryMb: number; forget: () => void } | undefined;

function takeWorker(maxMemoryMb: number): Worker {
  if (idle !== undefined && idle.maxMemoryMb === maxMemoryMb) {
    const { worker, forget } = idle;
    idle = undefined;
    worker.off('exit', forget).off('error', forget);
    worker.ref();
    return worker;
  }
  // execArgv: [] keeps the parent's flags (--max-old-space-size, loaders) out: Worker refuses some of them, and the
  // heap limit is resourceLimits' job.
  return new Worker(pdfWorkerFile(), {
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: Math.min(64, maxMemoryMb) },
  });
}

/** Parks a worker that answered (unref'd: it never keeps the process alive), or ends it when one is parked already. */
function parkWorker(worker: Worker, maxMemoryMb: number): void {
  if (idle !== undefined) {
    void worker.terminate().catch(() => undefined);
    return;
  }
  const forget = (): void => {
    if (idle?.worker === worker) idle = undefined;
  };
  idle = { worker, maxMemoryMb, forget };
  worker.unref();
  worker.once('exit', forget).once('error', forget);
}

/**
 * Runs the parse in a worker thread, bounded by `withDeadline` (the deadline and the caller's signal). The worker is
 * parked for the next read when it answered; ended when it did not (deadline, abort, out of memory, crash).
 */
function parseInWorker(bytes: Uint8Array, options: ResolvedOptions): Promise<PdfWorkerReply> {
  const { fileName } = options;
  const request: ParsePdfRequest = {
    fileName,
    maxPages: options.maxPages,
    pages: options.pages,
    tables: options.tables,
    maxTablePages: options.maxTablePages,
  };
  return withDeadline((stopped) => runInWorker(bytes, request, options.maxMemoryMb, stopped), {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onTimeout: () =>
      new DocumentError(`Reading "${fileName}" took longer than ${options.timeoutMs} ms and was stopped. Raise \`timeoutMs\` or read fewer pages.`, {
        details: { file: fileName, cause: 'timeout', timeoutMs: options.timeoutMs },
      }),
    onAbort: (reason) => new AbortError(`Reading "${fileName}" was cancelled.`, { cause: reason, details: { file: fileName } }),
  });
}

/** One parse on a worker: settles with its reply, or rejects when the thread dies; `stopped` ends the thread. */
function runInWorker(bytes: Uint8Array, request: ParsePdfRequest, maxMemoryMb: number, stopped: AbortSignal): Promise<PdfWorkerReply> {
  const { fileName } = request;
  return new Promise<PdfWorkerReply>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = takeWorker(maxMemoryMb);
    } catch (cause) {
      reject(
        cause instanceof DocumentError
          ? cause
          : new DocumentError(`Cannot read "${fileName}": the PDF worker thread did not start (${(cause as Error).message}).`, {
              cause,
              details: { file: fileName, cause: 'worker-start' },
            }),
      );
      return;
    }
    let settled = false;
    const settle = (answered: boolean, action: () => void): void => {
      if (settled) return;
      settled = true;
      stopped.removeEventListener('abort', onStopped);
      // Only this read's own listeners: removeAllListeners would also drop the ones Worker keeps its port with.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (answered) parkWorker(worker, maxMemoryMb);
      else void worker.terminate().catch(() => undefined);
      action();
    };
    // withDeadline has already rejected with the timeout or abort error: only the thread is left to end.
    const onStopped = (): void => settle(false, () => undefined);
    stopped.addEventListener('abort', onStopped, { once: true });
    const onMessage = (reply: PdfWorkerReply): void => settle(true, () => resolve(reply));
    const onError = (error: Error & { code?: string }): void =>
      settle(false, () => {
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          reject(
            new DocumentError(
              `Reading "${fileName}" needed more than ${maxMemoryMb} MiB and was stopped. Raise \`maxMemoryMb\` if the document is trusted.`,
              { cause: error, details: { file: fileName, cause: 'out-of-memory', maxMemoryMb } },
            ),
          );
        } else reject(error);
      });
    const onExit = (code: number): void =>
      settle(false, () =>
        reject(new DocumentError(`Reading "${fileName}" failed: the PDF worker thread exited (code ${code}) without an answer.`, {
          details: { file: fileName, cause: 'worker-exit', exitCode: code },
        })),
      );
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    // The copy's buffer moves to the worker (pdf.js may detach it anyway); the caller's array stays usable.
    worker.postMessage({ bytes, request } satisfies PdfWorkerRequest, [bytes.buffer as ArrayBuffer]);
  });
}

/**
 * Read a PDF from its bytes. The bytes are copied, so the caller's array stays usable. Throws DocumentError for an
 * empty, non-PDF, truncated, damaged, encrypted or over-limit document, when `timeoutMs` passes or the parse needs
 * more than `maxMemoryMb`; AbortError when `signal` aborts.
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
  let reply: PdfWorkerReply;
  try {
    reply = await parseInWorker(bytes.slice(), resolved);
  } catch (error) {
    if (error instanceof AbortError) throw error;
    throw describeFailure(error, bytes, resolved.fileName);
  }
  if (reply.ok) return reply.document;
  const { name, message, details } = reply.error;
  if (details !== undefined) throw new DocumentError(message, { details });
  throw describeFailure(Object.assign(new Error(message), { name }), bytes, resolved.fileName);
}
