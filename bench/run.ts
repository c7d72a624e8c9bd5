/**
 * `npm run bench [name ...]`: runs the benchmarks in bench/*.bench.ts one after another (each in its own process,
 * so one's memory and threads don't skew the next), or only those whose file name contains a given name.
 * Benchmarks print their tables (workflows also rewrites its section of docs/benchmarks.md through
 * support/benchmark-doc.ts); they are never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const names = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => names.length === 0 || names.some((name) => file.includes(name)))
  .sort();
if (files.length === 0) {
  console.error(`No benchmark matches ${names.join(', ')}. Available: ${readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, file)], { stdio: 'inherit' });
  if (child.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
