import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/benchmarks.md');

/** Replaces the `## {heading}` section of docs/benchmarks.md with `section` (which starts with that heading), or appends it. */
export function writeBenchmarkSection(heading: string, section: string): void {
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n\n';
  const start = text.indexOf(`## ${heading}`);
  if (start !== -1) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next === -1 ? '' : text.slice(next + 1));
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(docs, text);
}
