/**
 * `document.summarize`: map-reduce summary of a file (PDF or text, read through the sandbox) or of given text.
 */
import { z } from 'zod';
import { defineTool } from '../define-tool';
import { requireModel, splitTextPages } from './document-chunk-tool';
import { loadDocumentPages } from './load-document-pages';
import { summarizeDocument } from './summarize-document';

export const documentSummarizeTool = defineTool({
  name: 'document.summarize',
  description:
    'Summarise a long document that does not fit the context: give `path` (a PDF or text file) or `text`. ' +
    'Optional `focus` (what to concentrate on) and `output` (a JSON Schema the final answer must match; parsed into value).',
  input: z
    .object({
      path: z.string().min(1).optional().describe('A PDF or text file inside the allowed folders'),
      text: z.string().min(1).optional().describe('The document text itself; form feeds separate pages'),
      focus: z.string().optional().describe('What the summary should concentrate on'),
      output: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of the answer'),
      maxSummaryTokens: z.number().int().min(16).optional().describe('Token budget of each summary'),
    })
    .refine((args) => (args.path === undefined) !== (args.text === undefined), {
      message: 'give exactly one of `path` or `text`',
      path: ['path'],
    }),
  output: z.object({
    summary: z.string(),
    value: z.unknown().optional(),
    pageCount: z.number(),
    chunkCount: z.number(),
    calls: z.object({ map: z.number(), reduce: z.number() }),
  }),
  // A long report on a local model takes many generations; the registry default (60 s) would cut it off.
  timeoutMs: 30 * 60_000,
  async execute({ path, text, focus, output, maxSummaryTokens }, ctx) {
    const model = requireModel(ctx.model, 'document.summarize');
    const pages = path === undefined ? splitTextPages(text ?? '') : await loadDocumentPages(path, { files: ctx.files, signal: ctx.signal });
    return summarizeDocument(pages, { model, focus, output, maxSummaryTokens, signal: ctx.signal, logger: ctx.logger });
  },
});
