/**
 * readPdf against bare pdf-parse over a folder of real-world PDFs (mozilla/pdf.js's test/pdfs, extracted outside the
 * repository): how many give text, how many fail with a typed error, how many hang or crash.
 *
 *   npx tsx bench/pdf-corpus.bench.ts /work/scratch/pdfjs [--limit N] [--timeout-ms 60000]
 *
 * readPdf runs with its deadline (`--timeout-ms`): a read it stops is a typed error (DocumentError `timeout`). A hang
 * is a call still unsettled 10 s after that deadline; a crash is an untyped error or a dead process. Bare pdf-parse
 * (`new PDFParse({ data }).getText()`, default options) runs in a worker thread of its own, so a document it never
 * finishes is counted as a hang there (and the worker replaced) instead of stopping the benchmark.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { AutoglmError } from '../src/errors';
import { readPdf } from '../src/tools/pdf/read-pdf';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string' }, 'timeout-ms': { type: 'string' } },
});
const folder = positionals[0];
if (folder === undefined) {
  console.log('pdf-corpus: skipped (pass a folder of PDFs: npx tsx bench/pdf-corpus.bench.ts /work/scratch/pdfjs)');
  process.exit(0);
}
const timeoutMs = Number(values['timeout-ms'] ?? 60_000); // readPdf's own default
const graceMs = 10_000;
const files = readdirSync(folder)
  .filter((name) => name.toLowerCase().endsWith('.pdf'))
  .sort()
  .slice(0, values.limit === undefined ? undefined : Number(values.limit));

type Outcome = { kind: 'text' | 'empty' | 'typed' | 'untyped' | 'hang'; detail?: string; ms: number };

async function ours(bytes: Uint8Array): Promise<Outcome> {
  const started = performance.now();
  const ms = () => performance.now() - started;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang', ms: ms() }), timeoutMs + graceMs);
  });
  const read = readPdf(bytes, { timeoutMs, maxPages: 100_000 }).then(
    (document): Outcome => ({ kind: document.pages.some((page) => page.text.trim() !== '') ? 'text' : 'empty', ms: ms() }),
    (error: unknown): Outcome =>
      AutoglmError.isInstance(error)
        ? { kind: 'typed', detail: String(error.details.cause ?? error.code), ms: ms() }
        : { kind: 'untyped', detail: String(error), ms: ms() },
  );
  const outcome = await Promise.race([read, hang]);
  clearTimeout(timer);
  return outcome;
}

/** Bare pdf-parse in a worker kept across files; replaced after a hang. */
class BarePdfParse {
  #worker: Worker | undefined;
  readonly #code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const loading = import(workerData.url);
    parentPort.on('message', async (bytes) => {
      const { PDFParse } = await loading;
      const parser = new PDFParse({ data: bytes });
      try {
        const result = await parser.getText();
        parentPort.postMessage({ ok: true, chars: result.pages.reduce((sum, page) => sum + page.text.trim().length, 0) });
      } catch (error) {
        parentPort.postMessage({ ok: false, detail: String(error && error.name) });
      } finally {
        await parser.destroy().catch(() => {});
      }
    });`;

  parse(bytes: Uint8Array): Promise<Outcome> {
    const url = pathToFileURL(createRequire(import.meta.url).resolve('pdf-parse')).href;
    const worker = (this.#worker ??= new Worker(this.#code, { eval: true, workerData: { url }, execArgv: [] }));
    const started = performance.now();
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome): void => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        void worker.terminate();
        this.#worker = undefined;
        done({ kind: 'hang', ms: performance.now() - started });
      }, timeoutMs + graceMs);
      const onMessage = (reply: { ok: boolean; chars?: number; detail?: string }): void =>
        done({ kind: reply.ok ? (reply.chars! > 0 ? 'text' : 'empty') : 'typed', detail: reply.detail, ms: performance.now() - started });
      const onError = (error: Error): void => {
        this.#worker = undefined;
        done({ kind: 'untyped', detail: String(error), ms: performance.now() - started });
      };
      worker.on('message', onMessage).on('error', onError);
      worker.postMessage(bytes.slice());
    });
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
  }
}

const bare = new BarePdfParse();
const tally = { ours: new Map<string, number>(), bare: new Map<string, number>() };
const notable: string[] = [];
const started = performance.now();
for (const [index, name] of files.entries()) {
  const bytes = new Uint8Array(readFileSync(path.join(folder, name)));
  const [a, b] = await Promise.all([ours(bytes), bare.parse(bytes)]);
  for (const [map, outcome] of [[tally.ours, a], [tally.bare, b]] as const) map.set(outcome.kind, (map.get(outcome.kind) ?? 0) + 1);
  const gaveText = (o: Outcome) => o.kind === 'text' || o.kind === 'empty';
  if (a.kind === 'untyped' || a.kind === 'hang' || (gaveText(b) && !gaveText(a)) || b.kind === 'hang') {
    notable.push(`${name}: ours ${a.kind}${a.detail ? ` (${a.detail})` : ''} ${a.ms.toFixed(0)} ms; bare ${b.kind}${b.detail ? ` (${b.detail})` : ''} ${b.ms.toFixed(0)} ms`);
  }
  if ((index + 1) % 100 === 0) console.log(`${index + 1}/${files.length} files, ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
await bare.close();

const count = (map: Map<string, number>, kind: string) => map.get(kind) ?? 0;
const row = (label: string, map: Map<string, number>) =>
  `| ${label} | ${count(map, 'text') + count(map, 'empty')} (${count(map, 'empty')} without text) | ${count(map, 'typed')} | ${count(map, 'hang')} | ${count(map, 'untyped')} |`;
console.log(`\n${files.length} PDFs from ${folder}, readPdf deadline ${timeoutMs} ms, ${((performance.now() - started) / 1000).toFixed(0)} s in all\n`);
console.log('| reader | parsed | typed errors | hangs | crashes / untyped |');
console.log('|---|---|---|---|---|');
console.log(row('readPdf (worker, deadline)', tally.ours));
console.log(row('bare pdf-parse', tally.bare));
if (notable.length > 0) console.log(`\nNotable files:\n${notable.map((line) => `- ${line}`).join('\n')}`);
process.exit(0);
