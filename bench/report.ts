/**
 * `npm run bench:report [-- --quick] [-- --only name[,name]] [-- --render-only]`: regenerates issue 7's results.
 * Runs the suite benchmarks (bench/<name>.bench.ts for each name of suiteBenchmarks) one after another, each in its
 * own process so one's memory and threads do not skew the next; then draws every plot of every result file in
 * docs/benchmarks/data/ to docs/benchmarks/<file>.svg and rewrites the "Performance" section of docs/benchmarks.md.
 * A benchmark whose file does not exist yet is skipped; a failed one keeps its previous result file (if any).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchmarkDataDir } from './support/bench-report';
import { writeBenchmarkSection } from './support/benchmark-doc';
import { orderReports, parseBenchReport, performanceHeading, performanceSection, renderPlotSvg, suiteBenchmarks, type NamedReport } from './support/report-render';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const plotsDir = path.resolve(benchmarkDataDir, '..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'render-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm run bench:report -- [--quick] [--only ${suiteBenchmarks.join('|')}] [--render-only]`);
  process.exit(0);
}
const only = (values.only ?? []).flatMap((value) => value.split(',')).map((name) => name.trim()).filter(Boolean);
const unknown = only.filter((name) => !(suiteBenchmarks as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')} in --only: expected some of ${suiteBenchmarks.join(', ')}.`);
  process.exit(2);
}

let failed = 0;
if (!values['render-only']) {
  for (const name of suiteBenchmarks) {
    if (only.length > 0 && !only.includes(name)) continue;
    const file = path.join(benchDir, `${name}.bench.ts`);
    if (!existsSync(file)) {
      console.log(`\n=== ${name}: skipped, bench/${name}.bench.ts does not exist yet ===`);
      continue;
    }
    console.log(`\n=== ${name} (bench/${name}.bench.ts${values.quick ? ' --quick' : ''}) ===`);
    const started = performance.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', file, ...(values.quick ? ['--quick'] : [])], { stdio: 'inherit' });
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    if (child.status === 0) {
      console.log(`=== ${name}: done in ${seconds} s ===`);
    } else {
      failed += 1;
      console.error(`=== ${name}: FAILED (exit ${child.status ?? child.signal}) after ${seconds} s; its previous result file, if any, is kept ===`);
    }
  }
}

// Render every result file present, so a partial run still leaves the whole section in the docs.
const reports: NamedReport[] = [];
const dataFiles = existsSync(benchmarkDataDir) ? readdirSync(benchmarkDataDir).filter((file) => file.endsWith('.json')) : [];
for (const file of dataFiles) {
  const full = path.join(benchmarkDataDir, file);
  try {
    reports.push(parseBenchReport(path.basename(file, '.json'), JSON.parse(readFileSync(full, 'utf8')), full));
  } catch (error) {
    failed += 1;
    console.error(`Skipping ${full}: ${(error as Error).message}`);
  }
}
const ordered = orderReports(reports);
const plotOwners = new Map<string, string>();
for (const { name, report } of ordered) {
  for (const plot of report.plots) {
    const owner = plotOwners.get(plot.file);
    if (owner !== undefined) console.warn(`Plot ${plot.file} of ${name} overwrites the one of ${owner}: give it another file name.`);
    plotOwners.set(plot.file, name);
    writeFileSync(path.join(plotsDir, plot.file), await renderPlotSvg(plot));
  }
}
writeBenchmarkSection(performanceHeading, performanceSection(ordered));
console.log(
  `\nRewrote docs/benchmarks.md "## ${performanceHeading}" from ${ordered.length} report(s) (${ordered.map((r) => r.name).join(', ') || 'none'}) and ${plotOwners.size} plot(s) in docs/benchmarks/.`,
);
process.exit(failed === 0 ? 0 : 1);
