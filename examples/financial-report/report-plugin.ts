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
  /**
   * `agrees`: within 0.5% of the extracted figure; `differs`: a plausible number that disagrees; `implausible`: a
   * page the filing does not have, or an amount off by more than 1000x (a random test model's figures);
   * `missing`: no model figure.
   */
  status: z.enum(['agrees', 'differs', 'implausible', 'missing']),
  problem: z.string().optional(),
});

export const notice =
  'The figures were read from the filing by finance.keyFigures (deterministic, no model) and are real. The company ' +
  'name, highlights and risks are written by the language model: a tiny random-weight demo model writes nonsense there.';

/** What report.json says about where each part comes from; the model's prose is never checked by a tool. */
const verification = z.object({
  figures: z.literal('extracted from the filing by finance.keyFigures (deterministic)'),
  modelWritten: z.object({
    fields: z.array(z.enum(['company', 'highlights', 'risks'])),
    verified: z.literal(false),
    /** `low` when the draft failed or any of its figures differs from the filing or is implausible. */
    trust: z.enum(['low', 'unknown']),
    reason: z.string(),
  }),
  modelFigures: z.array(figureCheck),
});

const composeOutput = z.object({
  summary: FinancialSummary,
  verification,
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

type ModelFigure = { value: number; unit: ExtractedFigure['unit']; page: number };
type FigureCheck = z.output<typeof figureCheck>;

/** Compares the model's figure with the extracted one; `pageCount` bounds the pages a figure can cite. */
export function checkFigure(name: string, extracted: ExtractedFigure, model: ModelFigure | undefined, pageCount: number | undefined): FigureCheck {
  const base = { figure: name, extracted: { value: extracted.value, unit: extracted.unit, page: extracted.page, label: extracted.label } };
  if (!model) return { ...base, model: null, agrees: null, status: 'missing' };
  const a = extracted.value * scale[extracted.unit];
  const b = model.value * scale[model.unit];
  const agrees = Math.abs(a - b) <= Math.abs(a) * 0.005;
  const ratio = Math.abs(a) > 0 && Math.abs(b) > 0 ? Math.max(Math.abs(a / b), Math.abs(b / a)) : Infinity;
  const problems = [
    ...(pageCount !== undefined && model.page > pageCount ? [`page ${model.page} is beyond the filing's ${pageCount} pages`] : []),
    ...(!agrees && ratio > 1000 ? [`${model.value} ${model.unit} is off by more than 1000x from the filing's ${extracted.value} ${extracted.unit}`] : []),
  ];
  const status = problems.length > 0 ? 'implausible' : agrees ? 'agrees' : 'differs';
  return { ...base, model: { value: model.value, unit: model.unit, page: model.page }, agrees, status, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}

export const composeReportTool = defineTool({
  name: 'report.compose',
  description: 'Build the FinancialSummary of a filing from its extracted key figures and the model draft.',
  input: z.object({
    source: z.string().min(1),
    info: z.object({ title: z.string().optional(), pageCount: z.number().int().optional() }).loose().optional(),
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
      .map(([name, extracted, model]) => checkFigure(name, extracted, model, info?.pageCount));
    const figureLabels = Object.fromEntries(pairs.filter(([, extracted]) => extracted).map(([name, extracted]) => [name, extracted!.label]));
    const suspect = checks.filter((check) => check.status === 'differs' || check.status === 'implausible');
    const trust: 'low' | 'unknown' = draftStatus !== 'valid' || suspect.length > 0 ? 'low' : 'unknown';
    const reason =
      draftStatus !== 'valid'
        ? `the model's draft is ${draftStatus}; the company name falls back to the filing's title`
        : suspect.length > 0
          ? `the model's own figures disagree with the filing (${suspect.map((check) => `${check.figure}: ${check.status}`).join(', ')}), as a random test model's do: treat its prose as unverified`
          : 'no tool checks the prose; the model\'s figures agree with the filing';
    const verificationPart = {
      figures: 'extracted from the filing by finance.keyFigures (deterministic)' as const,
      modelWritten: { fields: ['company' as const, 'highlights' as const, 'risks' as const], verified: false as const, trust, reason },
      modelFigures: checks,
    };
    return {
      summary,
      verification: verificationPart,
      checks,
      draftStatus,
      ...(draftProblem ? { draftProblem: draftProblem.slice(0, 500) } : {}),
      notice,
      source,
      figureLabels,
    };
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
    const verdict = check.problem ? `${check.status}: ${check.problem}` : check.status;
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
    // The FinancialSummary, plus where each part comes from: model-written fields are marked unverified.
    const json = { ...FinancialSummary.parse(report.summary), verification: report.verification };
    await ctx.files.writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
    await ctx.files.writeFile(markdownPath, markdown(report));
    return { files: { json: await ctx.files.resolve(jsonPath), markdown: await ctx.files.resolve(markdownPath) } };
  },
});

export default definePlugin({ name: 'financial-report', version: '1.0.0', tools: [composeReportTool, writeReportTool] });
