/**
 * pdf.search recall benchmark: `npx tsx bench/pdf-search.bench.ts` (or `npm run bench pdf-search`).
 * Recall@1/3/5 on the fair question set (test/fixtures/financial-questions-fair.json), tuning half and held-out half
 * apart, and on the project's own 51 questions, for three rankers measured in the same run:
 * - bare BM25: MiniSearch over whole pages, default settings (test/support/pdf-corpus.ts baselineSearch);
 * - previous pdf.search: the ranker as it was before the fair set (extracted from git at PREVIOUS_COMMIT);
 * - pdf.search: the current PdfSearchIndex.
 * Then the latency of PdfSearchIndex.search on the cached index of the 194-page Coca-Cola 10-K (every fair question
 * asked of it, several rounds), as median / p95 / max per query.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PdfSearchIndex } from '../src/tools/pdf/pdf-search-index';
import { readPdf, type PdfPage } from '../src/tools/pdf/read-pdf';
import { quantile } from './support/stats';
import { baselineSearch, corpusDir, corpusPresent, loadFairQuestionSet, loadQuestions, recall, repoRoot, type RecallReport } from '../test/support/pdf-corpus';

if (!corpusPresent) {
  console.error(`The shared corpus is absent (${corpusDir}); nothing to benchmark.`);
  process.exit(1);
}

/** The last commit of the ranker before the fair set: main when this benchmark was written. */
const PREVIOUS_COMMIT = '9bb761033e8cf0adc6dc1d7635731d2af3240966';
const PREVIOUS_FILES = ['pdf-search-index', 'analyze-question', 'page-chunks', 'search-text', 'financial-vocabulary'];
const ROUNDS = Number(process.env.ROUNDS ?? 5);

type Ranker = (question: string, topK: number) => number[];
interface Searchable {
  search(question: string, options: { topK: number }): Array<{ page: number }>;
}

/** The previous ranker's files, written under .cache/ (inside the repository, so its imports resolve). */
async function loadPrevious(): Promise<((pages: PdfPage[]) => Searchable) | undefined> {
  const directory = resolve(repoRoot, '.cache/pdf-search-previous', PREVIOUS_COMMIT.slice(0, 12));
  try {
    mkdirSync(directory, { recursive: true });
    for (const name of PREVIOUS_FILES) {
      const source = execFileSync('git', ['show', `${PREVIOUS_COMMIT}:src/tools/pdf/${name}.ts`], { cwd: repoRoot, encoding: 'utf8' });
      writeFileSync(resolve(directory, `${name}.ts`), source);
    }
  } catch (error) {
    console.warn(`previous pdf.search unavailable (git show ${PREVIOUS_COMMIT.slice(0, 12)} failed: ${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  const module = (await import(pathToFileURL(resolve(directory, 'pdf-search-index.ts')).href)) as {
    PdfSearchIndex: { fromPages(pages: PdfPage[]): Searchable };
  };
  return (pages) => module.PdfSearchIndex.fromPages(pages);
}

console.log(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const fair = loadFairQuestionSet().questions;
const own = loadQuestions();
const previousFactory = await loadPrevious();
const rankers = new Map<string, Map<string, Ranker>>();
const pagesByFile = new Map<string, PdfPage[]>();
for (const file of new Set([...fair.map((question) => question.file), ...own.map((question) => question.file)])) {
  const { pages } = await readPdf(readFileSync(resolve(corpusDir, file)), { fileName: file });
  pagesByFile.set(file, pages);
  const current = PdfSearchIndex.fromPages(pages);
  const previous = previousFactory?.(pages);
  const byName = new Map<string, Ranker>([
    ['bare BM25', baselineSearch(pages)],
    ...(previous ? ([['previous pdf.search', (question: string, topK: number) => previous.search(question, { topK }).map((hit) => hit.page)]] as const) : []),
    ['pdf.search', (question, topK) => current.search(question, { topK }).map((hit) => hit.page)],
  ]);
  rankers.set(file, byName);
}

const format = (report: RecallReport): string => `${report.at1.toFixed(2)} / ${report.at3.toFixed(2)} / ${report.at5.toFixed(2)}`;
const names = [...rankers.values().next().value!.keys()];
const subsets: Array<[string, Array<{ file: string; question: string; pages: number[] }>]> = [
  ['fair set, held-out half', fair.filter((question) => question.split === 'heldout')],
  ['fair set, tuning half', fair.filter((question) => question.split === 'tune')],
  ['fair set, all', fair],
  ['fair set, 10-Ks only', fair.filter((question) => /10K/.test(question.file))],
  ["project's own 51 questions", own],
];
console.log(`\n| questions | n | ${names.map((name) => `${name} recall@1 / @3 / @5`).join(' | ')} |`);
console.log(`| --- | --- | ${names.map(() => '---').join(' | ')} |`);
for (const [label, selected] of subsets) {
  const cells = names.map((name) =>
    format(recall(selected.map((question) => ({ expected: question.pages, pages: rankers.get(question.file)!.get(name)!(question.question, 5) })))),
  );
  console.log(`| ${label} | ${selected.length} | ${cells.join(' | ')} |`);
}

// Latency: the cached index of the largest filing, every fair question asked of it, current and previous ranker in
// alternating rounds so drifting machine load hits both alike.
const latencyFile = 'COCACOLA_2020_10K.pdf';
const latencyPages = pagesByFile.get(latencyFile)!;
const buildStart = performance.now();
const latencyIndex = PdfSearchIndex.fromPages(latencyPages);
const buildMs = performance.now() - buildStart;
const contenders: Array<[string, Searchable]> = [['pdf.search', latencyIndex]];
const previousIndex = previousFactory?.(latencyPages);
if (previousIndex) contenders.push(['previous pdf.search', previousIndex]);
const timings = new Map(contenders.map(([name]) => [name, { wall: [] as number[], cpuMicros: 0 }]));
for (const [, index] of contenders) for (const question of fair) index.search(question.question, { topK: 5 }); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, index] of round % 2 === 0 ? contenders : [...contenders].reverse()) {
    const timing = timings.get(name)!;
    // CPU time as well as wall time: on a shared machine the wall clock also counts time other processes hold the core.
    const cpuBefore = process.cpuUsage();
    for (const question of fair) {
      const start = performance.now();
      index.search(question.question, { topK: 5 });
      timing.wall.push(performance.now() - start);
    }
    const cpu = process.cpuUsage(cpuBefore);
    timing.cpuMicros += cpu.user + cpu.system;
  }
}
console.log(`\n| measure (${latencyFile}, ${latencyPages.length} pages, ${latencyIndex.chunkCount} chunks) | value |\n| --- | --- |`);
console.log(`| pdf.search index build | ${buildMs.toFixed(0)} ms |`);
for (const [name, { wall, cpuMicros }] of timings) {
  console.log(
    `| ${name}: search, ${wall.length} queries | wall median ${quantile(wall, 0.5).toFixed(2)} ms, p95 ${quantile(wall, 0.95).toFixed(2)} ms, max ${Math.max(...wall).toFixed(2)} ms; CPU ${(cpuMicros / 1000 / wall.length).toFixed(2)} ms per query |`,
  );
}
console.log(`\nload average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
