/**
 * The report tools of the financial-report example, loaded through autoglm.config.json:
 * - `report.compose` builds a validated FinancialSummary whose figures are the ones finance.keyFigures read from the
 *   filing (real numbers, with their pages), takes the prose from the model's draft, and checks the draft's figures
 *   against the extracted ones;
 * - `report.write` writes report.json (the FinancialSummary) and report.md inside the run's folders.
 */
import path from 'node:path';
import { z } from 'zod';
import { FinancialSummary, ToolExecutionError, defineTool, definePlugin } from 'autoglm';

const extractedFigure = z.object({
  value: z.number(),
  unit: z.enum(['units', 'thousands', 'millions', 'billions']),
  page: z.number().int().min(1),
  label: z.string(),
  period: z.string().optional(),
});
type ExtractedFigure = z.output<typeof extractedFigure>;

const keyFigures = z.object({
  currency: z.string().nullable(),
  period: z.string().optional(),
  figures: z.object({
    revenue: extractedFigure.optional(),
    netIncome: extractedFigure.optional(),
    operatingIncome: extractedFigure.optional(),
    operatingCashFlow: extractedFigure.optional(),
    dilutedEps: extractedFigure.optional(),
  }),
});

const figureCheck = z.object({
  figure: z.string(),
  extracted: z.object({ value: z.number(), unit: z.string(), page: z.number(), label: z.string() }),
  model: z.object({ value: z.number(), unit: z.string(), page: z.number() }).nullable(),
  /** null when the model gave no usable figure. */
  agrees: z.boolean().nullable(),
});

export const notice =
  'The figures were read from the filing by finance.keyFigures (deterministic, no model) and are real. The company ' +
  'name, highlights and risks are written by the language model: a tiny random-weight demo model writes nonsense there.';

const composeOutput = z.object({
  summary: FinancialSummary,
  checks: z.array(figureCheck),
  /** `valid`: the model's draft matched the schema; `invalid`: it did not; `failed`: the agent step failed. */
  draftStatus: z.enum(['valid', 'invalid', 'failed']),
  draftProblem: z.string().optional(),
  notice: z.string(),
  source: z.string(),
  figureLabels: z.record(z.string(), z.string()),
});
type ComposeOutput = z.output<typeof composeOutput>;

const scale: Record<ExtractedFigure['unit'], number> = { units: 1, thousands: 1e3, millions: 1e6, billions: 1e9 };

function agrees(extracted: ExtractedFigure, model: { value: number; unit: ExtractedFigure['unit'] }): boolean {
  const a = extracted.value * scale[extracted.unit];
  const b = model.value * scale[model.unit];
  return Math.abs(a - b) <= Math.abs(a) * 0.005;
}

export const composeReportTool = defineTool({
  name: 'report.compose',
  description: 'Build the FinancialSummary of a filing from its extracted key figures and the model draft.',
  input: z.object({
    source: z.string().min(1),
    info: z.object({ title: z.string().optional() }).loose().optional(),
    figures: keyFigures,
    draft: z.unknown().optional(),
    draftError: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  output: composeOutput,
  execute({ source, info, figures, draft, draftError }): ComposeOutput {
    const { revenue, netIncome, operatingCashFlow, dilutedEps } = figures.figures;
    const missing = Object.entries({ revenue, netIncome, operatingCashFlow })
      .filter(([, figure]) => figure === undefined)
      .map(([name]) => name);
    if (missing.length > 0 || !revenue || !netIncome || !operatingCashFlow) {
      throw new ToolExecutionError(
        `finance.keyFigures found no ${missing.join(', ')} in ${source}; a FinancialSummary needs revenue, net income and operating cash flow.`,
        { details: { source, missing } },
      );
    }
    const parsed = draft === undefined ? undefined : FinancialSummary.safeParse(draft);
    const valid = parsed?.success ? parsed.data : undefined;
    const draftStatus = draftError !== undefined || draft === undefined ? 'failed' : valid ? 'valid' : 'invalid';
    const draftProblem =
      draftError !== undefined
        ? `${draftError.code}: ${draftError.message}`
        : parsed && !parsed.success
          ? parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')
          : undefined;
    const figure = ({ value, unit, page }: ExtractedFigure) => ({ value, unit, page });
    const summary = FinancialSummary.parse({
      company: valid?.company ?? (info?.title?.trim() || path.basename(source, path.extname(source))),
      period: (figures.period ?? valid?.period ?? 'unknown').slice(0, 80),
      currency: figures.currency ?? valid?.currency ?? 'unknown',
      revenue: figure(revenue),
      netIncome: figure(netIncome),
      operatingCashFlow: figure(operatingCashFlow),
      ...(dilutedEps ? { eps: figure(dilutedEps) } : {}),
      highlights: valid?.highlights ?? [],
      risks: valid?.risks ?? [],
    });
    const pairs: Array<[string, ExtractedFigure | undefined, { value: number; unit: ExtractedFigure['unit']; page: number } | undefined]> = [
      ['revenue', revenue, valid?.revenue],
      ['netIncome', netIncome, valid?.netIncome],
      ['operatingCashFlow', operatingCashFlow, valid?.operatingCashFlow],
      ['eps', dilutedEps, valid?.eps],
    ];
    const checks = pairs
      .filter((pair): pair is [string, ExtractedFigure, (typeof pair)[2]] => pair[1] !== undefined)
      .map(([name, extracted, model]) => ({
        figure: name,
        extracted: { value: extracted.value, unit: extracted.unit, page: extracted.page, label: extracted.label },
        model: model ? { value: model.value, unit: model.unit, page: model.page } : null,
        agrees: model ? agrees(extracted, model) : null,
      }));
    const figureLabels = Object.fromEntries(pairs.filter(([, extracted]) => extracted).map(([name, extracted]) => [name, extracted!.label]));
    return { summary, checks, draftStatus, ...(draftProblem ? { draftProblem: draftProblem.slice(0, 500) } : {}), notice, source, figureLabels };
  },
});

function formatFigure(value: number, unit: string, currency: string): string {
  const amount = value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return unit === 'units' ? `${amount} ${currency}` : `${amount} ${currency} ${unit}`;
}

function markdown(report: ComposeOutput): string {
  const { summary } = report;
  const rows = report.checks.map((check) => {
    const model = check.model ? `${check.model.value} ${check.model.unit} (p. ${check.model.page})` : 'none';
    const verdict = check.agrees === null ? '-' : check.agrees ? 'agrees' : 'differs';
    return `| ${check.figure} | ${formatFigure(check.extracted.value, check.extracted.unit, summary.currency)} | ${check.extracted.page} | ${check.extracted.label} | ${model} | ${verdict} |`;
  });
  const list = (items: string[]) => (items.length === 0 ? ['- (none)'] : items.map((item) => `- ${item}`));
  return [
    `# ${summary.company}: ${summary.period}`,
    '',
    `Source: ${report.source}`,
    '',
    `> ${report.notice}`,
    '',
    '## Key figures (extracted from the filing)',
    '',
    "| Figure | Value | Page | Line item | Model's figure | Check |",
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `## Highlights (model-written; draft ${report.draftStatus})`,
    '',
    ...list(summary.highlights),
    '',
    '## Risks (model-written)',
    '',
    ...list(summary.risks),
    ...(report.draftProblem ? ['', `Model draft problem: ${report.draftProblem}`] : []),
    '',
  ].join('\n');
}

export const writeReportTool = defineTool({
  name: 'report.write',
  description: 'Write report.json (the FinancialSummary) and report.md into a folder.',
  input: z.object({ outputDir: z.string().min(1), report: composeOutput }),
  output: z.object({ files: z.object({ json: z.string(), markdown: z.string() }) }),
  async execute({ outputDir, report }, ctx) {
    const jsonPath = path.join(outputDir, 'report.json');
    const markdownPath = path.join(outputDir, 'report.md');
    await ctx.files.writeFile(jsonPath, `${JSON.stringify(FinancialSummary.parse(report.summary), null, 2)}\n`);
    await ctx.files.writeFile(markdownPath, markdown(report));
    return { files: { json: await ctx.files.resolve(jsonPath), markdown: await ctx.files.resolve(markdownPath) } };
  },
});

export default definePlugin({ name: 'financial-report', version: '1.0.0', tools: [composeReportTool, writeReportTool] });
