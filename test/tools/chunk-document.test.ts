import { describe, expect, it } from 'vitest';
import { DocumentError } from '../../src/errors';
import { chunkDocument, type DocumentChunk, type DocumentPage } from '../../src/tools/documents/chunk-document';
import { documentChunkTool } from '../../src/tools/documents/document-chunk-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel } from '../support/scripted-model';

const model = new ScriptedModel([]);
/** Code points, as ScriptedModel counts them. */
const countTokens = (text: string) => model.tokenize(text).length;

/** A seeded generator, so the random documents are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomPage(next: () => number, number: number): DocumentPage {
  const words = ['net', 'sales', 'revenue', 'increased', '12%', 'fiscal', '2020', 'capital', 'expenditures', '$1,234', 'million', '营业收入', '🙂', 'Coca-Cola', 'operating'];
  const paragraphs: string[] = [];
  const paragraphCount = 1 + Math.floor(next() * 8);
  for (let p = 0; p < paragraphCount; p += 1) {
    const sentences: string[] = [];
    const sentenceCount = 1 + Math.floor(next() * 6);
    for (let s = 0; s < sentenceCount; s += 1) {
      const length = 1 + Math.floor(next() * 25);
      const sentence = Array.from({ length }, () => words[Math.floor(next() * words.length)]).join(next() < 0.05 ? '' : ' ');
      sentences.push(`${sentence}.`);
    }
    paragraphs.push(sentences.join(next() < 0.3 ? '\n' : ' '));
  }
  return { number, text: `  ${paragraphs.join(next() < 0.5 ? '\n\n' : '\n \n\n')}\n` };
}

/**
 * Problems of a chunking (plain checks, collected, so that tens of thousands of chunks stay fast): each chunk is the
 * exact slice of its page, within the limit, trimmed, numbered in order; every non-blank character is in a chunk.
 */
function problems(pages: DocumentPage[], chunks: DocumentChunk[], maxTokens: number): string[] {
  const found: string[] = [];
  const byPage = new Map(pages.map((page) => [page.number, { page, covered: new Uint8Array(page.text.length) }]));
  chunks.forEach((chunk, index) => {
    const entry = byPage.get(chunk.page);
    if (!entry) return void found.push(`chunk ${index}: unknown page ${chunk.page}`);
    if (chunk.index !== index) found.push(`chunk ${index}: index ${chunk.index}`);
    if (chunk.text !== entry.page.text.slice(chunk.start, chunk.end)) found.push(`chunk ${index}: text is not the page slice`);
    if (chunk.tokens !== countTokens(chunk.text)) found.push(`chunk ${index}: tokens ${chunk.tokens} miscounted`);
    if (chunk.tokens > maxTokens) found.push(`chunk ${index}: ${chunk.tokens} tokens > ${maxTokens}`);
    if (chunk.text.trim() !== chunk.text) found.push(`chunk ${index}: not trimmed`);
    entry.covered.fill(1, chunk.start, chunk.end);
  });
  for (const { page, covered } of byPage.values()) {
    for (let index = 0; index < page.text.length; index += 1) {
      if (!covered[index] && !/\s/.test(page.text[index])) found.push(`page ${page.number}: character ${index} is in no chunk`);
    }
  }
  return found;
}

describe('chunkDocument', () => {
  it('keeps whole paragraphs together while they fit, and cuts on paragraph boundaries', () => {
    const text = 'Alpha one.\n\nBeta two two.\n\nGamma three three three.';
    const chunks = chunkDocument([{ number: 1, text }], { maxTokens: 25, countTokens });
    expect(chunks.map((chunk) => chunk.text)).toEqual(['Alpha one.\n\nBeta two two.', 'Gamma three three three.']);
    expect(chunks.map((chunk) => chunk.tokens)).toEqual([25, 24]);
  });

  it('uses the whole limit exactly when the text allows', () => {
    const text = 'aaaa\n\nbbbb\n\ncccc';
    // 'aaaa\n\nbbbb' is exactly 10 code points.
    expect(chunkDocument([{ number: 1, text }], { maxTokens: 10, countTokens }).map((chunk) => chunk.tokens)).toEqual([10, 4]);
    expect(chunkDocument([{ number: 1, text }], { maxTokens: 9, countTokens }).map((chunk) => chunk.tokens)).toEqual([4, 4, 4]);
  });

  it('never crosses a page boundary and records the page of each chunk', () => {
    const pages = [
      { number: 3, text: 'Short page.' },
      { number: 4, text: '   ' },
      { number: 5, text: 'Another short page.\n\nWith two paragraphs.' },
    ];
    const chunks = chunkDocument(pages, { maxTokens: 1000, countTokens });
    expect(chunks.map((chunk) => [chunk.page, chunk.text])).toEqual([
      [3, 'Short page.'],
      [5, 'Another short page.\n\nWith two paragraphs.'],
    ]);
  });

  it('splits a paragraph longer than the limit on sentences, starting it in a new chunk', () => {
    const text = 'Intro.\n\nFirst sentence here. Second one follows. Third closes it.';
    const chunks = chunkDocument([{ number: 1, text }], { maxTokens: 40, countTokens });
    expect(chunks.map((chunk) => chunk.text)).toEqual(['Intro.', 'First sentence here. Second one follows.', 'Third closes it.']);
  });

  it('splits a sentence longer than the limit on words, and a word on characters', () => {
    const words = chunkDocument([{ number: 1, text: 'one two three four five six' }], { maxTokens: 9, countTokens });
    expect(words.map((chunk) => chunk.text)).toEqual(['one two', 'three', 'four five', 'six']);
    const word = 'x'.repeat(23);
    expect(chunkDocument([{ number: 1, text: word }], { maxTokens: 10, countTokens }).map((chunk) => chunk.text)).toEqual([
      'x'.repeat(10),
      'x'.repeat(10),
      'xxx',
    ]);
  });

  it('never splits a surrogate pair', () => {
    const text = '🙂'.repeat(7);
    const chunks = chunkDocument([{ number: 1, text }], { maxTokens: 3, countTokens });
    expect(chunks.map((chunk) => chunk.text)).toEqual(['🙂🙂🙂', '🙂🙂🙂', '🙂']);
  });

  it('repeats the tail of the previous chunk as overlap, within overlapTokens and on the same page only', () => {
    const text = 'A1.\n\nB2.\n\nC3.\n\nD4.';
    const chunks = chunkDocument([{ number: 1, text }, { number: 2, text: 'E5.' }], { maxTokens: 8, overlapTokens: 3, countTokens });
    expect(chunks.map((chunk) => chunk.text)).toEqual(['A1.\n\nB2.', 'B2.\n\nC3.', 'C3.\n\nD4.', 'E5.']);
    const noOverlap = chunkDocument([{ number: 1, text }], { maxTokens: 8, countTokens });
    expect(noOverlap.map((chunk) => chunk.text)).toEqual(['A1.\n\nB2.', 'C3.\n\nD4.']);
  });

  it('respects the limit and loses nothing on 60 random pages, with and without overlap', () => {
    const next = random(42);
    const pages = Array.from({ length: 60 }, (_, index) => randomPage(next, index + 1));
    for (const [maxTokens, overlapTokens] of [[9, 0], [40, 0], [120, 30], [33, 32]]) {
      const chunks = chunkDocument(pages, { maxTokens, overlapTokens, countTokens });
      expect(problems(pages, chunks, maxTokens)).toEqual([]);
      if (overlapTokens === 0) {
        // Without overlap chunks of a page do not overlap and come in order.
        for (let index = 1; index < chunks.length; index += 1) {
          if (chunks[index].page === chunks[index - 1].page) expect(chunks[index].start).toBeGreaterThanOrEqual(chunks[index - 1].end);
        }
      }
    }
  });

  it('cuts only at paragraph boundaries when every paragraph fits', () => {
    const next = random(7);
    const pages = Array.from({ length: 50 }, (_, index) => randomPage(next, index + 1));
    const maxTokens = Math.max(...pages.flatMap((page) => page.text.split(/\n\s*\n/).map((paragraph) => countTokens(paragraph.trim()))));
    for (const chunk of chunkDocument(pages, { maxTokens, countTokens })) {
      const page = pages[chunk.page - 1].text;
      expect(/^\s*$/.test(page.slice(0, chunk.start)) || /\n\s*\n\s*$/.test(page.slice(0, chunk.start))).toBe(true);
      expect(/^\s*$/.test(page.slice(chunk.end)) || /^\s*\n\s*\n/.test(page.slice(chunk.end))).toBe(true);
    }
  });

  it('gives back pieces when the exact count of the joined text exceeds the estimate', () => {
    // A counter where joining costs more than the parts (as BPE merges can shift): every "\n\n" costs 5 tokens in context.
    const lumpy = (text: string) => text.replace(/\n\n/g, '').length + (text.match(/\n\n/g)?.length ?? 0) * 5;
    const sneaky = (text: string) => (text.includes('\n\n') ? lumpy(text) + 3 : lumpy(text));
    const pages = [{ number: 1, text: 'aaa\n\nbbb\n\nccc\n\nddd' }];
    const chunks = chunkDocument(pages, { maxTokens: 13, countTokens: sneaky });
    for (const chunk of chunks) expect(sneaky(chunk.text)).toBeLessThanOrEqual(13);
    expect(chunks.map((chunk) => chunk.text).join('|')).toBe('aaa|bbb|ccc|ddd');
  });

  it('refuses bad options with a DocumentError naming the field', () => {
    expect(() => chunkDocument([], { maxTokens: 0, countTokens })).toThrow(DocumentError);
    expect(() => chunkDocument([], { maxTokens: 10, overlapTokens: 10, countTokens })).toThrow(/overlapTokens/);
    expect(chunkDocument([], { maxTokens: 10, countTokens })).toEqual([]);
  });
});

describe('document.chunk tool', () => {
  it('chunks text with form-feed pages using the model tokenizer', async () => {
    const registry = new ToolRegistry([documentChunkTool], { model });
    const result = await registry.call('document.chunk', { text: 'Page one.\fPage two, longer.\n\nSecond paragraph.', maxTokens: 20 });
    expect(result).toEqual({
      ok: true,
      value: {
        pageCount: 2,
        chunks: [
          { index: 0, page: 1, text: 'Page one.', tokens: 9, start: 0, end: 9 },
          { index: 1, page: 2, text: 'Page two, longer.', tokens: 17, start: 0, end: 17 },
          { index: 2, page: 2, text: 'Second paragraph.', tokens: 17, start: 19, end: 36 },
        ],
      },
    });
  });

  it('chunks pages, and returns input problems and a missing model as values', async () => {
    const registry = new ToolRegistry([documentChunkTool], { model });
    const pages = await registry.call('document.chunk', { pages: [{ number: 7, text: 'Seven.' }], maxTokens: 5 });
    expect(pages.ok && (pages.value as any).chunks.map((chunk: DocumentChunk) => [chunk.page, chunk.text])).toEqual([[7, 'Seven'], [7, '.']]);
    const both = await registry.call('document.chunk', { text: 'x', pages: [], maxTokens: 5 });
    expect(both).toMatchObject({ ok: false, error: { code: 'TOOL_INPUT', issues: [{ path: 'text', message: 'give exactly one of `text` or `pages`' }] } });
    const overlap = await registry.call('document.chunk', { text: 'x', maxTokens: 5, overlapTokens: 5 });
    expect(overlap).toMatchObject({ ok: false, error: { code: 'TOOL_INPUT', issues: [{ path: 'overlapTokens' }] } });
    const noModel = await new ToolRegistry([documentChunkTool]).call('document.chunk', { text: 'x', maxTokens: 5 });
    expect(noModel).toMatchObject({ ok: false, error: { code: 'TOOL_EXECUTION', message: expect.stringMatching(/needs a language model/) } });
  });
});
