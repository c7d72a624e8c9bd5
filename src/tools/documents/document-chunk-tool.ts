/**
 * `document.chunk`: the chunkDocument function as a tool, counting tokens with the registry's model.
 */
import { z } from 'zod';
import { ToolExecutionError } from '../../errors';
import type { LanguageModel } from '../../models/language-model';
import { defineTool } from '../define-tool';
import { chunkDocument, type DocumentPage } from './chunk-document';

const pageSchema = z.object({ number: z.number().int().min(1), text: z.string() });

export const documentChunkTool = defineTool({
  name: 'document.chunk',
  description:
    'Split a document into chunks of at most maxTokens model tokens, on paragraph boundaries, never across pages. ' +
    'Give `text` (form feeds \\f separate pages) or `pages` ([{ number, text }], e.g. from pdf.extract).',
  input: z
    .object({
      text: z.string().optional().describe('Document text; form feed characters separate pages'),
      pages: z.array(pageSchema).optional().describe('Pages with 1-based numbers, e.g. the pages of pdf.extract'),
      maxTokens: z.number().int().min(1).max(1_000_000).describe('Most model tokens per chunk'),
      overlapTokens: z.number().int().min(0).default(0).describe('Tokens of the previous chunk repeated at the start of the next'),
    })
    .refine((args) => (args.text === undefined) !== (args.pages === undefined), {
      message: 'give exactly one of `text` or `pages`',
      path: ['text'],
    })
    .refine((args) => args.overlapTokens < args.maxTokens, {
      message: 'must be smaller than maxTokens',
      path: ['overlapTokens'],
    }),
  output: z.object({
    chunks: z.array(
      z.object({ index: z.number(), page: z.number(), text: z.string(), tokens: z.number(), start: z.number(), end: z.number() }),
    ),
    pageCount: z.number(),
  }),
  execute({ text, pages, maxTokens, overlapTokens }, ctx) {
    const model = requireModel(ctx.model, 'document.chunk');
    const documentPages = pages ?? splitTextPages(text ?? '');
    const chunks = chunkDocument(documentPages, { maxTokens, overlapTokens, countTokens: tokenCounter(model) });
    return { chunks, pageCount: documentPages.length };
  },
});

/** Plain text as pages: form feeds (as `pdftotext` writes them) separate pages numbered from 1. */
export function splitTextPages(text: string): DocumentPage[] {
  return text.split('\f').map((pageText, index) => ({ number: index + 1, text: pageText }));
}

/** Tokens of plain text by the model's tokenizer, without special tokens. */
export function tokenCounter(model: LanguageModel): (text: string) => number {
  return (text) => model.tokenize(text).length;
}

export function requireModel(model: LanguageModel | undefined, tool: string): LanguageModel {
  if (!model) {
    throw new ToolExecutionError(
      `${tool} needs a language model (for its tokenizer): create the ToolRegistry with { model } or pass { model } to call().`,
      { details: { tool } },
    );
  }
  return model;
}
