/**
 * The README's TypeScript code blocks, so the tarball test compiles and runs the docs as written. A block preceded
 * by `<!-- no-check -->` (on the line above its fence) is a fragment and is skipped.
 */
import { readFileSync } from 'node:fs';

export interface ReadmeBlock {
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  /** The section heading the block sits under. */
  heading: string;
  code: string;
}

export function readmeTypeScriptBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '(top)';
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (!/^```(ts|typescript)\s*$/.test(line)) continue;
    const end = lines.indexOf('```', index + 1);
    if (end === -1) throw new Error(`README.md:${index + 1}: unterminated code block`);
    const skipped = lines[index - 1]?.trim() === '<!-- no-check -->';
    if (!skipped) blocks.push({ line: index + 1, heading, code: lines.slice(index + 1, end).join('\n') + '\n' });
    index = end;
  }
  return blocks;
}
