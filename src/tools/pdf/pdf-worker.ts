/**
 * The worker thread of `readPdf`: one message with the bytes and the request, one reply with the document or the
 * error (its name, message and, for a DocumentError, its details). The parent kills the thread at its deadline or
 * when it runs out of its memory limit; nothing here needs to watch the clock.
 */
import { parentPort } from 'node:worker_threads';
import { DocumentError } from '../../errors';
import { parsePdf, type ParsePdfRequest } from './parse-pdf';

export interface PdfWorkerRequest {
  bytes: Uint8Array;
  request: ParsePdfRequest;
}

export type PdfWorkerReply =
  | { ok: true; document: import('./read-pdf').PdfDocument }
  | { ok: false; error: { name: string; message: string; details?: Record<string, unknown> } };

parentPort?.on('message', ({ bytes, request }: PdfWorkerRequest) => {
  parsePdf(bytes, request).then(
    (document) => parentPort!.postMessage({ ok: true, document } satisfies PdfWorkerReply),
    (error: unknown) => {
      const reply: PdfWorkerReply = {
        ok: false,
        error: {
          name: error instanceof Error ? error.name : 'Error',
          message: error instanceof Error ? error.message : String(error),
          ...(error instanceof DocumentError ? { details: { ...error.details } } : {}),
        },
      };
      parentPort!.postMessage(reply);
    },
  );
});
