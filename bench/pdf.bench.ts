/**
 * PDF benchmark: `npx tsx bench/pdf.bench.ts`.
 * - pdf.extract pages/s on the 194-page Coca-Cola 10-K against bare pdf-parse getText() in the same run
 *   (alternating, medians of several runs);
 * - pdf.search index build time and query times (first call with parse + index, then cached calls);
 * - question-set recall@1/3/5 of plain whole-page MiniSearch BM25 (baseline) and of pdf.search.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { PDFParse } from 'pdf-parse';
import { silentLogger } from '../src/observability/logger';
import { PdfSearchIndex } from '../src/tools/pdf/pdf-search-index';
import { createPdfTools } from '../src/tools/pdf/pdf-tools';
import { readPdf } from '../src/tools/pdf/read-pdf';
import type { ToolContext } from '../src/tools/tool';
import { baselineSearch, corpusDir, corpusPresent, loadQuestions, recall } from '../test/support/pdf-corpus';

if (!corpusPresent) {
  console.error(`The shared corpus is absent (${corpusDir}); nothing to benchmark.`);
  process.exit(1);
}

const RUNS = Number(process.env.RUNS ?? 5);
const file = 'COCACOLA_2020_10K.pdf';
const bytes = new Uint8Array(readFileSync(resolve(corpusDir, file)));

const ctx: ToolContext = {
  signal: new AbortController().signal,
  logger: silentLogger(),
  files: {
    resolve: async (path) => resolve(corpusDir, path),
    readFile: async (path) => new Uint8Array(readFileSync(resolve(corpusDir, path))),
    writeFile: async () => {
      throw new Error('read-only');
    },
  },
};
const [extractTool, searchTool] = createPdfTools();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await work();
  return [performance.now() - start, value];
}

async function bare(): Promise<number> {
  const parser = new PDFParse({ data: bytes.slice() });
  try {
    return (await parser.getText()).pages.length;
  } finally {
    await parser.destroy();
  }
}

async function ours(): Promise<number> {
  const value = (await extractTool.execute({ path: file }, ctx)) as { pages: unknown[] };
  return value.pages.length;
}

console.log(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);

// Warm up both paths once (module loading, JIT).
await bare();
await ours();
const bareMs: number[] = [];
const oursMs: number[] = [];
let pages = 0;
for (let run = 0; run < RUNS; run++) {
  // Alternate the order so drifting machine load hits both sides alike.
  const order = run % 2 === 0 ? [bare, ours] : [ours, bare];
  for (const work of order) {
    const [ms, count] = await timed(work);
    pages = count;
    (work === bare ? bareMs : oursMs).push(ms);
  }
}
const barePagesPerSecond = pages / (median(bareMs) / 1000);
const oursPagesPerSecond = pages / (median(oursMs) / 1000);

// Search: index build on parsed pages, first tool call (read + parse + index), then cached query calls.
const document = await readPdf(bytes, { fileName: file });
const buildMs: number[] = [];
let chunks = 0;
for (let run = 0; run < RUNS; run++) {
  const [ms, index] = await timed(async () => PdfSearchIndex.fromPages(document.pages));
  buildMs.push(ms);
  chunks = index.chunkCount;
}
const [firstCallMs] = await timed(() => Promise.resolve(searchTool.execute({ path: file, query: 'capital expenditure 2020', topK: 5 }, ctx)));
const questions = loadQuestions();
const cokeQuestions = questions.filter((question) => question.file === file);
const queryMs: number[] = [];
for (let run = 0; run < 20; run++) {
  for (const question of cokeQuestions) {
    const [ms] = await timed(() => Promise.resolve(searchTool.execute({ path: file, query: question.question, topK: 5 }, ctx)));
    queryMs.push(ms);
  }
}
const index = PdfSearchIndex.fromPages(document.pages);
const pureQueryMs: number[] = [];
for (let run = 0; run < 20; run++) {
  for (const question of cokeQuestions) pureQueryMs.push((await timed(async () => index.search(question.question, { topK: 5 })))[0]);
}

// Question-set recall, baseline and ours, in the same run.
const indexes = new Map<string, { ours: PdfSearchIndex; baseline: ReturnType<typeof baselineSearch>; pageCount: number }>();
for (const name of new Set(questions.map((question) => question.file))) {
  const parsed = await readPdf(readFileSync(resolve(corpusDir, name)), { fileName: name });
  indexes.set(name, { ours: PdfSearchIndex.fromPages(parsed.pages), baseline: baselineSearch(parsed.pages), pageCount: parsed.info.pageCount });
}
function evaluate(selected: typeof questions) {
  return {
    baseline: recall(selected.map((question) => ({ expected: question.pages, pages: indexes.get(question.file)!.baseline(question.question, 5) }))),
    ours: recall(
      selected.map((question) => ({
        expected: question.pages,
        pages: indexes.get(question.file)!.ours.search(question.question, { topK: 5 }).map((hit) => hit.page),
      })),
    ),
  };
}
const format = (report: ReturnType<typeof recall>) => `${report.at1.toFixed(2)} / ${report.at3.toFixed(2)} / ${report.at5.toFixed(2)}`;
const subsets: Array<[string, typeof questions]> = [
  ['all questions', questions],
  ['held-out questions', questions.filter((question) => question.heldOut)],
  ['filings of 29+ pages', questions.filter((question) => indexes.get(question.file)!.pageCount >= 29)],
  ['10-Ks only (73-194 pages)', questions.filter((question) => /10K/.test(question.file))],
];

console.log(`\n| measure | value |\n| --- | --- |`);
console.log(`| bare pdf-parse getText(), ${pages} pages | median ${median(bareMs).toFixed(0)} ms, ${barePagesPerSecond.toFixed(1)} pages/s |`);
console.log(`| pdf.extract (sandbox read + readPdf), ${pages} pages | median ${median(oursMs).toFixed(0)} ms, ${oursPagesPerSecond.toFixed(1)} pages/s |`);
console.log(`| pdf.extract / bare pdf-parse | ${(oursPagesPerSecond / barePagesPerSecond).toFixed(3)}x |`);
console.log(`| runs (alternating) | ${RUNS} each; bare ${bareMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ours ${oursMs.map((ms) => ms.toFixed(0)).join(', ')} ms |`);
console.log(`| pdf.search index build (${chunks} chunks, parsed pages in) | median ${median(buildMs).toFixed(0)} ms |`);
console.log(`| pdf.search first call (read + parse + index + query) | ${firstCallMs.toFixed(0)} ms |`);
console.log(`| pdf.search cached call (tool, sha256 of 1.5 MB + query) | median ${median(queryMs).toFixed(1)} ms, p95 ${percentile(queryMs, 0.95).toFixed(1)} ms |`);
console.log(`| PdfSearchIndex.search alone | median ${median(pureQueryMs).toFixed(2)} ms, p95 ${percentile(pureQueryMs, 0.95).toFixed(2)} ms |`);
console.log(`\n| questions | n | baseline recall@1 / @3 / @5 | pdf.search recall@1 / @3 / @5 |\n| --- | --- | --- | --- |`);
for (const [label, selected] of subsets) {
  const { baseline, ours: mine } = evaluate(selected);
  console.log(`| ${label} | ${selected.length} | ${format(baseline)} | ${format(mine)} |`);
}
console.log(`\nload average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
