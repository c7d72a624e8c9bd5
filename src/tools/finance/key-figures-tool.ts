import { z } from 'zod';
import { defineTool } from '../define-tool';
import type { Tool } from '../tool';
import { readPdf } from '../pdf/read-pdf';
import { extractKeyFigures, type KeyFigures } from './extract-key-figures';
import { keyFigureNames, type KeyFigureName } from './line-item-synonyms';

const pageSchema = z.object({
  number: z.number().int().min(1).describe('1-based page number'),
  text: z.string(),
});

const figureSchema = z.object({
  value: z.number(),
  unit: z.enum(['units', 'thousands', 'millions', 'billions']),
  page: z.number().int().min(1),
  label: z.string(),
  period: z.string().optional(),
  derived: z.literal(true).optional().describe('Computed from two printed figures (free cash flow = operating cash flow - capex)'),
});


const selectable = [...keyFigureNames, 'segmentRevenue'] as const;
type Selectable = (typeof selectable)[number];

const only = z
  .array(z.enum(selectable))
  .min(1)
  .optional()
  .describe(
    'Return only these figures (e.g. the five headline ones, to keep a small model’s prompt short; `segmentRevenue` for ' +
      'the segment table); all when absent',
  );

export const keyFiguresInputSchema = z.union([
  z.object({ path: z.string().min(1).describe('Path of a PDF filing inside the allowed folders'), only }).strict(),
  z.object({ pages: z.array(pageSchema).min(1).describe('Page texts, e.g. the `pages` of pdf.extract'), only }).strict(),
  z
    .object({ text: z.string().min(1).describe('The whole text; pages separated by form feeds (\\f), as pdftotext writes'), only })
    .strict(),
]);

/** Keep the figures asked for; the headline period stays what the full extraction found. */
function select(result: KeyFigures, names: readonly Selectable[] | undefined): KeyFigures {
  if (names === undefined) return result;
  const figures = Object.fromEntries(Object.entries(result.figures).filter(([name]) => names.includes(name as KeyFigureName)));
  const { segmentRevenue, ...rest } = result;
  return { ...rest, figures, ...(segmentRevenue && names.includes('segmentRevenue') ? { segmentRevenue } : {}) };
}

/** Pages of a plain text: form feeds separate pages, as pdftotext and many converters write them. */
function pagesOfText(text: string): Array<{ number: number; text: string }> {
  return text.split('\f').map((pageText, index) => ({ number: index + 1, text: pageText }));
}

export const keyFiguresOutputSchema = z.object({
  currency: z.string().nullable(),
  figures: z.object({
    revenue: figureSchema.optional(),
    netIncome: figureSchema.optional(),
    operatingIncome: figureSchema.optional(),
    operatingCashFlow: figureSchema.optional(),
    dilutedEps: figureSchema.optional(),
    basicEps: figureSchema.optional(),
    sharesOutstanding: figureSchema.optional().describe('Basic weighted-average shares of the income statement'),
    totalAssets: figureSchema.optional(),
    totalLiabilities: figureSchema.optional(),
    cashAndEquivalents: figureSchema.optional(),
    longTermDebt: figureSchema.optional(),
    capitalExpenditures: figureSchema.optional().describe('As printed in the cash flow statement: negative is an outflow'),
    freeCashFlow: figureSchema.optional(),
  }),
  period: z.string().optional(),
  segmentRevenue: z
    .array(
      z.object({
        segment: z.string().describe('The operating segment as the filing names it'),
        value: z.number(),
        unit: z.enum(['units', 'thousands', 'millions', 'billions']),
        page: z.number().int().min(1),
        period: z.string().optional(),
        label: z.string(),
      }),
    )
    .optional()
    .describe('Revenue per operating segment for the current period, from the segment table; absent when none is read'),
});

/**
 * `finance.keyFigures`: the key figures of a filing or earnings release (revenue, net income, operating income,
 * operating cash flow, diluted and basic EPS, basic weighted-average shares, total assets, total liabilities, cash and
 * equivalents, long-term debt, capex, free cash flow) and segment revenue, each with its page, unit, period and printed
 * line item, read from the statement and segment tables. Deterministic, no model.
 */
export const keyFiguresTool = defineTool({
  name: 'finance.keyFigures',
  description:
    'Find the key figures of a financial filing or earnings release for the current period: revenue (net sales), net ' +
    'income, operating income, net cash from operating activities, diluted and basic EPS, basic weighted-average shares, ' +
    'total assets, total liabilities, cash and equivalents, long-term debt, capital expenditures and free cash flow ' +
    '(marked derived when computed), each with the page it is on, its unit (thousands, millions ...), its period and ' +
    'the line item as printed. Figures the filing does not print are left out. Give the PDF `path`, or `pages` already ' +
    'extracted, or the whole `text`; `only` keeps some figures.',
  input: keyFiguresInputSchema,
  output: keyFiguresOutputSchema,
  async execute(args, ctx) {
    if ('pages' in args) return select(extractKeyFigures(args.pages), args.only);
    if ('text' in args) return select(extractKeyFigures(pagesOfText(args.text)), args.only);
    const bytes = await ctx.files.readFile(args.path);
    const document = await readPdf(bytes, { fileName: args.path, signal: ctx.signal });
    return select(extractKeyFigures(document.pages), args.only);
  },
});

/** The finance tools, ready to register. */
export const financeTools: Tool[] = [keyFiguresTool];
