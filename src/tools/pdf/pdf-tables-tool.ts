/**
 * `pdf.tables`: the financial statement tables of a PDF (income statement, balance sheet, cash flow, comprehensive
 * income, equity) as rows of signed numbers under period columns, with the unit the heading states. Read from the
 * page text (see `readFilingTables`); checked cell by cell against `pdftotext -layout` on the shared filings.
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { defineTool } from '../define-tool';
import { readFilingTables, type StatementTable } from '../finance/read-statement-tables';
import type { Tool } from '../tool';
import { readPdf, type ReadPdfOptions } from './read-pdf';

const statementKinds = ['income', 'comprehensiveIncome', 'balanceSheet', 'cashFlow', 'equity'] as const;
const units = ['units', 'thousands', 'millions', 'billions'] as const;

export const pdfTablesInput = z
  .object({
    path: z.string().min(1).describe('Path of the PDF file'),
    pages: z.array(z.number().int().min(1)).min(1).max(5000).optional().describe('1-based pages to read; all pages when absent'),
    kind: z.enum(statementKinds).optional().describe('Only this statement: income, comprehensiveIncome, balanceSheet, cashFlow or equity'),
  })
  .strict();

export const pdfTablesOutput = z.object({
  tables: z.array(
    z.object({
      page: z.number().int().describe('1-based page number'),
      kind: z.enum(statementKinds),
      title: z.string().describe('The statement heading as printed'),
      unit: z.enum(units).describe('Unit of the amounts as the heading states it; "units" when it states none'),
      unitStated: z.boolean(),
      currencySymbols: z.array(z.string()),
      columns: z.array(z.object({ period: z.string().optional(), change: z.literal(true).optional().describe('A change column (% or amount) between periods') })),
      rows: z.array(
        z.object({
          label: z.string(),
          section: z.string().optional().describe('The label-only line above the row, e.g. "Current assets:"'),
          values: z.array(z.number().nullable()).describe('Signed cells: (1,234) is -1234, a dash is 0, n/m is null'),
          measure: z.enum(['amount', 'perShare', 'shares', 'percent']),
          currencySymbols: z.array(z.string()).optional().describe('Currency symbols printed on the row'),
          unit: z.enum(units),
        }),
      ),
      continued: z.boolean().optional().describe('The table continues the previous page’s statement without a heading'),
    }),
  ),
});

export type PdfTablesLimits = Pick<ReadPdfOptions, 'maxPages' | 'maxBytes' | 'timeoutMs'>;

/** Make `pdf.tables` with the given read limits. */
export function createPdfTablesTool(limits: PdfTablesLimits = {}): Tool {
  return defineTool({
    name: 'pdf.tables',
    description:
      'Read the financial statement tables of a PDF filing (income statement, balance sheet, cash flow, comprehensive income, ' +
      'equity): each row as printed with its numbers by period column, negatives as in (parentheses), the unit ' +
      '(thousands, millions) and the 1-based page. Optionally only some pages or one statement kind.',
    input: pdfTablesInput,
    output: pdfTablesOutput,
    async execute(args, ctx) {
      const bytes = await ctx.files.readFile(args.path);
      const document = await readPdf(bytes, { ...limits, fileName: basename(args.path), pages: args.pages, signal: ctx.signal });
      const tables = readFilingTables(document.pages).filter(
        (table): table is StatementTable & { kind: (typeof statementKinds)[number] } => table.kind !== 'other' && (args.kind === undefined || table.kind === args.kind),
      );
      return { tables: tables.map(({ headerText: _headerText, ...table }) => table) };
    },
  });
}
