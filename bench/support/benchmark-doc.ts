import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/benchmarks.md. */
export const benchmarkDocFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/benchmarks.md');

/** `text` with its `## {heading}` section replaced by `section` (which starts with that heading), or with it appended. */
export function replaceBenchmarkSection(text: string, heading: string, section: string): string {
  const body = section.trimEnd();
  const start = text.search(new RegExp(`^## ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*$`, 'm'));
  if (start === -1) return `${text.trimEnd()}\n\n${body}\n`;
  const next = text.indexOf('\n## ', start + 1);
  // A blank line before the next section, whatever the section's own ending.
  return next === -1 ? `${text.slice(0, start)}${body}\n` : `${text.slice(0, start)}${body}\n\n${text.slice(next + 1)}`;
}

/** Replaces the `## {heading}` section of docs/benchmarks.md (or `file`) with `section`, or appends it. */
export function writeBenchmarkSection(heading: string, section: string, file: string = benchmarkDocFile): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  writeFileSync(file, replaceBenchmarkSection(text, heading, section));
}
