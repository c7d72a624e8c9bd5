/**
 * finance.keyFigures over all 12 filings of the shared corpus: what is found, correct, wrong or missing against the
 * hand-checked expectations in test/fixtures/finance/expected-key-figures.json, and the time per filing.
 * Run: npx tsx bench/finance-key-figures.bench.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractKeyFigures } from '../src/tools/finance/extract-key-figures';
import type { SegmentRevenue } from '../src/tools/finance/extract-segment-revenue';
import { keyFigureNames, type KeyFigureName } from '../src/tools/finance/line-item-synonyms';
import { readPdf } from '../src/tools/pdf/read-pdf';

interface Expected {
  figures: Partial<Record<KeyFigureName, { value: number; unit: string; page: number }>>;
  absent: KeyFigureName[];
  segmentRevenue?: SegmentRevenue[] | null;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.resolve(repoRoot, '../shared/corpus/financial');
const expectations = JSON.parse(
  readFileSync(path.join(repoRoot, 'test/fixtures/finance/expected-key-figures.json'), 'utf8'),
) as Record<string, Expected>;
const names: readonly KeyFigureName[] = keyFigureNames;
const totals = { correct: 0, wrong: 0, missing: 0, absentOk: 0, spurious: 0 };
const segmentLines: string[] = [];

console.log(`| filing | ${names.join(' | ')} | ms (read + extract) |`);
console.log(`|---|${names.map(() => '---').join('|')}|---|`);
for (const file of readdirSync(corpus).filter((name) => name.endsWith('.pdf')).sort()) {
  const started = performance.now();
  const document = await readPdf(new Uint8Array(readFileSync(path.join(corpus, file))), { fileName: file });
  const result = extractKeyFigures(document.pages);
  const elapsed = Math.round(performance.now() - started);
  const expected = expectations[file];
  const cells = names.map((name) => {
    const found = result.figures[name];
    const want = expected?.figures[name];
    const shown = found ? `${found.value}${found.unit === 'units' ? '' : ` ${found.unit}`} p${found.page}` : '—';
    if (!expected) return `${shown} (unchecked)`;
    if (want && found && want.value === found.value && want.unit === found.unit && want.page === found.page) {
      totals.correct += 1;
      return `${shown} ✓`;
    }
    if (want && !found) {
      totals.missing += 1;
      return 'MISSING';
    }
    if (want) {
      totals.wrong += 1;
      return `${shown} WRONG (want ${want.value} ${want.unit} p${want.page})`;
    }
    if (found) {
      totals.spurious += 1;
      return `${shown} SPURIOUS (not printed)`;
    }
    totals.absentOk += 1;
    return 'not printed';
  });
  console.log(`| ${file} | ${cells.join(' | ')} | ${elapsed} |`);
  const segments = result.segmentRevenue?.map((segment) => `${segment.segment} ${segment.value} ${segment.unit} p${segment.page}`).join('; ') ?? 'none';
  const want = expected?.segmentRevenue;
  const verdict = want === undefined ? 'unchecked' : JSON.stringify(want ?? undefined) === JSON.stringify(result.segmentRevenue) ? '✓' : 'DIFFERENT';
  segmentLines.push(`| ${file} | ${segments} | ${verdict} |`);
}
console.log(
  `\ncorrect ${totals.correct}, wrong ${totals.wrong}, missing ${totals.missing}, spurious ${totals.spurious}, ` +
    `correctly absent ${totals.absentOk} (figures the filing does not print)`,
);
console.log(`\n| filing | segment revenue | as pinned |\n|---|---|---|\n${segmentLines.join('\n')}`);
