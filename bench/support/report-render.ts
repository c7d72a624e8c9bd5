/**
 * The pure half of `npm run bench:report`: validates the suite's result files (docs/benchmarks/data/<name>.json),
 * draws each PlotSpec as an SVG line chart (Vega-Lite compiled to Vega, rendered headlessly: no canvas, no network)
 * and assembles the "Performance" section of docs/benchmarks.md. Reading and writing files is bench/report.ts's job.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import type { BenchReport, MachineInfo, PlotSpec } from './bench-report';

/** The suite's benchmarks in report order: bench/<name>.bench.ts writes docs/benchmarks/data/<name>.json. */
export const suiteBenchmarks = ['engine', 'per-token-overhead', 'memory', 'agent-workload', 'sampling'] as const;

/** Heading of the docs/benchmarks.md section the report owns. */
export const performanceHeading = 'Performance';

/** Where the plots go, relative to docs/benchmarks.md. */
export const plotDirectory = 'benchmarks';

const plotSchema = z.object({
  file: z.string().regex(/^[a-z0-9][a-z0-9._-]*\.svg$/, 'a plain file name (lowercase, digits, . _ -) ending in .svg'),
  title: z.string(),
  xLabel: z.string(),
  yLabel: z.string(),
  xLog: z.boolean().optional(),
  series: z.array(z.object({ name: z.string(), points: z.array(z.tuple([z.number(), z.number()])) })),
});

const reportSchema = z.object({
  heading: z.string().min(1),
  command: z.string().min(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  loadAverage: z.object({ start: z.number(), end: z.number() }),
  machine: z.object({
    cpu: z.string(),
    cores: z.number(),
    memoryGb: z.number(),
    node: z.string(),
    onnxruntime: z.string(),
    platform: z.string(),
  }),
  model: z.string(),
  method: z.string(),
  markdown: z.string(),
  goals: z.array(z.object({ goal: z.string(), measured: z.string(), met: z.boolean() })),
  plots: z.array(plotSchema),
  raw: z.unknown(),
});

/** A result file after validation, with the benchmark name it came from. */
export interface NamedReport {
  name: string;
  report: BenchReport;
}

/** Validates the parsed JSON of docs/benchmarks/data/<name>.json; throws an Error naming the file and the field. */
export function parseBenchReport(name: string, json: unknown, file = `${name}.json`): NamedReport {
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}. Re-run its benchmark (npm run bench:report -- --only ${name}).`);
  }
  return { name, report: parsed.data as BenchReport };
}

/** Orders reports as the suite does (unknown names last, alphabetically). */
export function orderReports(reports: readonly NamedReport[]): NamedReport[] {
  const rank = (name: string) => {
    const index = (suiteBenchmarks as readonly string[]).indexOf(name);
    return index === -1 ? suiteBenchmarks.length : index;
  };
  return [...reports].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** One table of every report's goals: goal, measured, met, benchmark. */
export function goalsTable(reports: readonly NamedReport[]): string {
  const rows = reports.flatMap(({ name, report }) =>
    report.goals.map((goal) => `| ${cell(goal.goal)} | ${cell(goal.measured)} | ${goal.met ? '✓' : '✗'} | ${cell(name)} |`),
  );
  if (rows.length === 0) return '_No goals reported yet._';
  return ['| goal | measured | met | benchmark |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function describeMachine(machine: MachineInfo): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}`;
}

/** The machine line(s): one when every report ran on the same machine, else one per report. */
export function machineSummary(reports: readonly NamedReport[]): string {
  const descriptions = [...new Set(reports.map(({ report }) => describeMachine(report.machine)))];
  if (descriptions.length <= 1) return `Machine: ${descriptions[0] ?? 'no report yet'}.`;
  return ['Machines (the reports ran on different machines):', ...reports.map(({ name, report }) => `- ${name}: ${describeMachine(report.machine)}`)].join('\n');
}

function minutes(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms)) return '';
  return ms < 60_000 ? ` (${(ms / 1000).toFixed(0)} s)` : ` (${(ms / 60_000).toFixed(1)} min)`;
}

/** Keeps a report's own headings below the section's `###` subsections (a `## ` line would end the section). */
function demoteHeadings(markdown: string): string {
  return markdown.replace(/^#{1,3} /gm, '#### ');
}

/** One `###` subsection per report. */
export function reportSubsection({ name, report }: NamedReport): string {
  const parts = [
    `### ${report.heading}`,
    [
      `Command: \`${report.command}\` (benchmark \`${name}\`, data \`benchmarks/data/${name}.json\`).`,
      `Run ${report.startedAt} to ${report.finishedAt}${minutes(report.startedAt, report.finishedAt)}; load average (1 min) ${report.loadAverage.start.toFixed(2)} at the start, ${report.loadAverage.end.toFixed(2)} at the end.`,
      `Model: ${report.model}`,
      `Method: ${report.method}`,
    ].join('\n\n'),
  ];
  if (report.markdown.trim() !== '') parts.push(demoteHeadings(report.markdown.trim()));
  for (const plot of report.plots) parts.push(`![${plot.title}](${plotDirectory}/${plot.file})`);
  return parts.join('\n\n');
}

/** The whole `## Performance` section, ending in a newline. */
export function performanceSection(reports: readonly NamedReport[]): string {
  const ordered = orderReports(reports);
  const parts = [
    `## ${performanceHeading}`,
    'Issue 7\'s suite: every figure below comes from the result files in `docs/benchmarks/data/`, written by the ' +
      'benchmarks and assembled (tables and plots) by one command:',
    '```sh\nnpm run bench:report            # run the suite, then rewrite this section and the plots\nnpm run bench:report -- --quick # smoke settings\nnpm run bench:report -- --render-only\n```',
    machineSummary(ordered),
    '### Goals',
    goalsTable(ordered),
    ...ordered.map(reportSubsection),
  ];
  return `${parts.join('\n\n')}\n`;
}

/** The Vega-Lite spec of one line chart: one colored line with points per series, legend, labelled axes. */
export function plotToVegaLite(plot: PlotSpec): TopLevelSpec {
  const values = plot.series.flatMap((series) => series.points.map(([x, y]) => ({ x, y, series: series.name })));
  return {
    title: plot.title,
    width: 480,
    height: 280,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: plot.xLabel,
        scale: plot.xLog ? { type: 'log' } : { zero: false },
        axis: plot.xLog ? { values: [...new Set(values.map((v) => v.x))].sort((a, b) => a - b) } : {},
      },
      y: { field: 'y', type: 'quantitative', title: plot.yLabel },
      color: { field: 'series', type: 'nominal', title: null, sort: plot.series.map((s) => s.name), legend: { orient: 'right', labelLimit: 0 } },
    },
  };
}

/** Draws a PlotSpec as an SVG document. */
export async function renderPlotSvg(plot: PlotSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(plotToVegaLite(plot)).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
