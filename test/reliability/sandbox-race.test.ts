/**
 * Issue 18 item 2: a folder inside the root is atomically exchanged with a symlink pointing outside while files.read
 * and files.write run. A sandbox that checks a path and then opens it again by name loses this race thousands of
 * times; one that walks from an open root directory never does. AUTOGLM_RACE_ITERATIONS overrides the count.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileTools } from '../../src/tools/file-tools';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { startRenameExchanger, type RenameExchanger } from '../support/rename-exchanger';

const iterations = Number(process.env.AUTOGLM_RACE_ITERATIONS ?? 10_000);
let base: string;
let root: string;
let outside: string;
let exchanger: RenameExchanger | undefined;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'autoglm-race-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'swap'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'swap/file.txt'), 'inside');
  writeFileSync(join(outside, 'file.txt'), 'OUTSIDE SECRET');
  symlinkSync(outside, join(root, 'link'));
});

afterAll(async () => {
  await exchanger?.stop();
  rmSync(base, { recursive: true, force: true });
});

it(`files.read and files.write never leave the root while a folder is exchanged with a symlink (${iterations} iterations)`, async () => {
  const registry = new ToolRegistry(fileTools, { roots: [root], allowWrites: true });
  exchanger = await startRenameExchanger(join(root, 'swap'), join(root, 'link'));
  const outcomes = { readInside: 0, readEscapes: 0, writeInside: 0, refused: 0, missing: 0, other: [] as string[] };
  const started = Date.now();
  for (let index = 0; index < iterations; index++) {
    const [read, write] = await Promise.all([
      registry.call('files.read', { path: 'swap/file.txt' }),
      registry.call('files.write', { path: `swap/w-${index}.txt`, text: 'written' }),
    ]);
    for (const result of [read, write]) {
      if (result.ok) continue;
      if (result.error.code === 'PATH_OUTSIDE_SANDBOX') outcomes.refused++;
      else if (/ENOENT/.test(result.error.message)) outcomes.missing++;
      else if (outcomes.other.length < 5) outcomes.other.push(`${result.error.code}: ${result.error.message}`);
    }
    if (read.ok) {
      if ((read.value as { text: string }).text === 'inside') outcomes.readInside++;
      else outcomes.readEscapes++;
    }
    if (write.ok) outcomes.writeInside++;
  }
  await exchanger.stop();
  const writeEscapes = readdirSync(outside).filter((name) => name.startsWith('w-')).length;
  console.info(
    `sandbox race: ${iterations} iterations in ${Date.now() - started} ms; reads inside ${outcomes.readInside}, ` +
      `read escapes ${outcomes.readEscapes}, write escapes ${writeEscapes}, refused ${outcomes.refused}, ENOENT ${outcomes.missing}`,
  );
  expect(outcomes.other).toEqual([]);
  expect({ readEscapes: outcomes.readEscapes, writeEscapes }).toEqual({ readEscapes: 0, writeEscapes: 0 });
  // The race must really have run: some calls landed inside, some saw the symlink and were refused.
  expect(outcomes.readInside).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
  expect(existsSync(join(outside, 'file.txt'))).toBe(true);
}, 120_000);
