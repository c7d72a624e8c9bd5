import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentError, financeTools, keyFiguresTool } from '../../src/index';
import { silentLogger } from '../../src/observability/logger';
import type { ToolContext } from '../../src/tools/tool';
import { smallIncomeStatement } from '../fixtures/finance/small-income-statement';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.resolve(repoRoot, '../shared/corpus/financial');

/** File access confined to one folder, standing in for the registry's sandbox. */
function contextFor(root: string): ToolContext {
  const resolve = async (file: string): Promise<string> => {
    const full = path.resolve(root, file);
    if (!full.startsWith(`${root}${path.sep}`)) throw new Error(`${file} is outside ${root}`);
    return full;
  };
  return {
    signal: new AbortController().signal,
    logger: silentLogger(),
    files: {
      resolve,
      readFile: async (file) => new Uint8Array(await readFile(await resolve(file))),
      writeFile: async () => {
        throw new Error('finance.keyFigures never writes');
      },
    },
  };
}

describe('finance.keyFigures tool', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'autoglm-finance-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('is exported in financeTools under its dotted name with input and output schemas', () => {
    expect(financeTools.map((tool) => tool.name)).toEqual(['finance.keyFigures']);
    expect(keyFiguresTool.output).toBeDefined();
  });

  it('accepts exactly one of path, pages or text', () => {
    expect(keyFiguresTool.input.safeParse({ path: 'a.pdf' }).success).toBe(true);
    expect(keyFiguresTool.input.safeParse({ text: 'Revenues 1' }).success).toBe(true);
    expect(keyFiguresTool.input.safeParse({ text: 'Revenues 1', path: 'a.pdf' }).success).toBe(false);
    expect(keyFiguresTool.input.safeParse({ pages: [{ number: 1, text: 'x' }] }).success).toBe(true);
    expect(keyFiguresTool.input.safeParse({}).success).toBe(false);
    expect(keyFiguresTool.input.safeParse({ path: 'a.pdf', pages: [{ number: 1, text: 'x' }] }).success).toBe(false);
    expect(keyFiguresTool.input.safeParse({ pages: [{ number: 0, text: 'x' }] }).success).toBe(false);
  });

  it('reads figures from given pages, and its result matches its output schema', async () => {
    const pages = [
      { number: 3, text: 'CONSOLIDATED STATEMENTS OF INCOME\n(dollars in millions)\n12 Weeks Ended\nNovember 20, 2022 \tNovember 21, 2021\nTotal revenue \t54,437 \t50,363' },
    ];
    const value = await keyFiguresTool.execute({ pages }, contextFor(scratch));
    expect(keyFiguresTool.output!.parse(value)).toEqual({
      currency: null,
      period: '12 Weeks Ended November 20, 2022',
      figures: { revenue: { value: 54437, unit: 'millions', page: 3, label: 'Total revenue', period: '12 Weeks Ended November 20, 2022' } },
    });
  });

  it('reads a whole text with form-feed page breaks, numbering pages from 1', async () => {
    const text = 'Cover page\f(in millions)\fCONSOLIDATED STATEMENTS OF CASH FLOWS\n(in millions)\nNet cash provided by operating activities \t$ 841 \t$ 613';
    const value = await keyFiguresTool.execute({ text }, contextFor(scratch));
    expect(value.currency).toBe('USD');
    expect(value.figures.operatingCashFlow).toEqual({ value: 841, unit: 'millions', page: 3, label: 'Net cash provided by operating activities' });
  });

  it.skipIf(!existsSync(corpus))('reads a PDF through ctx.files (Costco Q1 2023 release)', async () => {
    const value = await keyFiguresTool.execute({ path: 'COSTCO_2023Q1_EARNINGS.pdf' }, contextFor(corpus));
    expect(value.currency).toBe('USD');
    expect(value.figures.netIncome).toMatchObject({ value: 1364, unit: 'millions', page: 3 });
    expect(value.figures.dilutedEps).toMatchObject({ value: 3.07, unit: 'units', page: 3 });
  });

  it('fails with a DocumentError naming the file when it is not a PDF', async () => {
    await writeFile(path.join(scratch, 'notes.pdf'), 'just text, not a PDF');
    const call = keyFiguresTool.execute({ path: 'notes.pdf' }, contextFor(scratch));
    await expect(call).rejects.toBeInstanceOf(DocumentError);
    await expect(call).rejects.toThrow(/notes\.pdf/);
  });
});

describe('finance.keyFigures `only`', () => {
  const text = smallIncomeStatement;
  const ctx = { signal: new AbortController().signal, logger: silentLogger() } as unknown as ToolContext;

  it('keeps only the figures asked for', async () => {
    const all = await keyFiguresTool.execute(keyFiguresTool.input.parse({ text }), ctx);
    expect(Object.keys(all.figures).sort()).toEqual(['basicEps', 'netIncome', 'revenue']);
    const some = await keyFiguresTool.execute(keyFiguresTool.input.parse({ text, only: ['revenue', 'freeCashFlow'] }), ctx);
    expect(some).toEqual({ currency: 'USD', period: 'Year Ended December 31, 2023', figures: { revenue: all.figures.revenue } });
  });

  it('refuses an unknown figure name', () => {
    expect(keyFiguresTool.input.safeParse({ text, only: ['ebitda'] }).success).toBe(false);
    expect(keyFiguresTool.input.safeParse({ text, only: [] }).success).toBe(false);
  });
});
