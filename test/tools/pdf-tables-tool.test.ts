/**
 * pdf.tables called as a tool on a real filing (the eBay release) through a FileAccess over the shared corpus.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger';
import { ToolRegistry } from '../../src/tools/tool-registry';
import type { FileAccess, ToolContext } from '../../src/tools/tool';
import { pdfTools } from '../../src/tools/pdf/pdf-tools';
import { corpusDir, corpusMissingMessage, corpusPresent } from '../support/pdf-corpus';

if (!corpusPresent) console.warn(corpusMissingMessage);

const access: FileAccess = {
  async resolve(path) {
    return resolve(corpusDir, path);
  },
  async readFile(path) {
    return new Uint8Array(await readFile(resolve(corpusDir, path)));
  },
  async writeFile() {
    throw new Error('read-only in this test');
  },
};
const context = (): ToolContext => ({ signal: new AbortController().signal, logger: silentLogger(), files: access });
const tablesTool = pdfTools.find((tool) => tool.name === 'pdf.tables')!;

describe.skipIf(!corpusPresent)('pdf.tables tool', () => {
  it('returns the statements of the eBay release with typed rows, matching its output schema', async () => {
    const value = await tablesTool.execute(tablesTool.input.parse({ path: 'EBAY_2023Q1_EARNINGS.pdf' }), context());
    expect(tablesTool.output!.safeParse(value).success).toBe(true);
    expect(value.tables.map((table: { page: number; kind: string }) => `${table.page}:${table.kind}`)).toEqual([
      '7:balanceSheet',
      '8:balanceSheet',
      '8:income',
      '9:cashFlow',
    ]);
    const income = value.tables.find((table: { kind: string }) => table.kind === 'income');
    expect(income.title).toBe('Unaudited Condensed Consolidated Statement of Income');
    expect(income.rows.find((row: { label: string }) => row.label === 'Net revenues')).toEqual({ label: 'Net revenues', values: [2510, 2483], measure: 'amount', currencySymbols: ['$', '$'], unit: 'millions' });
  });

  it('filters by page and statement kind', async () => {
    const value = await tablesTool.execute(tablesTool.input.parse({ path: 'EBAY_2023Q1_EARNINGS.pdf', pages: [8, 9], kind: 'cashFlow' }), context());
    expect(value.tables.map((table: { page: number; kind: string }) => `${table.page}:${table.kind}`)).toEqual(['9:cashFlow']);
    const operating = value.tables[0].rows.find((row: { label: string }) => row.label === 'Net cash provided by operating activities');
    expect(operating.values).toEqual([841, 613]);
  });

  it('refuses unknown fields and statement kinds through the registry, as a value the model can read', async () => {
    const registry = new ToolRegistry(pdfTools, { roots: [corpusDir] });
    const unknownField = await registry.call('pdf.tables', { path: 'EBAY_2023Q1_EARNINGS.pdf', statement: 'income' });
    expect(unknownField).toMatchObject({ ok: false });
    const unknownKind = await registry.call('pdf.tables', { path: 'EBAY_2023Q1_EARNINGS.pdf', kind: 'notes' });
    expect(unknownKind).toMatchObject({ ok: false });
  });
});
