/**
 * The result file every performance benchmark writes (docs/benchmarks/data/<name>.json) and that
 * `npm run bench:report` turns into docs/benchmarks.md's "Performance" section and the SVG plots beside it.
 * A benchmark measures and describes; the report script only assembles and draws.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchmarkDataDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/benchmarks/data');

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  onnxruntime: string;
  platform: string;
}

/** One goal of the issue, as measured in this run. */
export interface GoalResult {
  /** The goal as the issue states it, e.g. "int4 decode >= 1.8x the fp32 decode". */
  goal: string;
  /** What this run measured, e.g. "3.62x (13.5 vs 48.9 ms/token)". */
  measured: string;
  met: boolean;
}

export interface PlotSeries {
  name: string;
  /** [x, y] pairs in x order. */
  points: Array<[number, number]>;
}

/** A line chart the report script draws as docs/benchmarks/<file>. */
export interface PlotSpec {
  /** File name ending in .svg, unique across benchmarks. */
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic x axis (contexts 32 / 512 / 2048). Defaults to linear. */
  xLog?: boolean;
  series: PlotSeries[];
}

export interface BenchReport {
  /** Sub-heading of the Performance section, e.g. "Decode cost vs context". */
  heading: string;
  /** The exact command that reproduces the figures. */
  command: string;
  startedAt: string;
  finishedAt: string;
  /** 1-minute load average at the start and the end. */
  loadAverage: { start: number; end: number };
  machine: MachineInfo;
  /** The model(s) measured: shape, layout, weight bytes. */
  model: string;
  /** Method in one or two sentences: contenders, alternation, rounds, statistic. */
  method: string;
  /** Markdown body: the tables (no heading). */
  markdown: string;
  goals: GoalResult[];
  plots: PlotSpec[];
  /** Raw measurements, for anyone re-analysing. */
  raw: unknown;
}

export function machineInfo(): MachineInfo {
  let onnxruntime = 'unknown';
  try {
    onnxruntime = execFileSync(process.execPath, ['-p', "require('onnxruntime-node/package.json').version"], { encoding: 'utf8' }).trim();
  } catch {
    // left as unknown
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Starts the clock of a report: call first, pass the result to saveBenchReport at the end. */
export function startBenchReport(): { startedAt: string; loadStart: number } {
  return { startedAt: new Date().toISOString(), loadStart: os.loadavg()[0] ?? 0 };
}

/** Writes docs/benchmarks/data/<name>.json. */
export function saveBenchReport(
  name: string,
  started: { startedAt: string; loadStart: number },
  report: Omit<BenchReport, 'startedAt' | 'finishedAt' | 'loadAverage' | 'machine'>,
): string {
  mkdirSync(benchmarkDataDir, { recursive: true });
  const full: BenchReport = {
    ...report,
    startedAt: started.startedAt,
    finishedAt: new Date().toISOString(),
    loadAverage: { start: started.loadStart, end: os.loadavg()[0] ?? 0 },
    machine: machineInfo(),
  };
  const file = path.join(benchmarkDataDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  return file;
}
