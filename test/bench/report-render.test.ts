import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/support/bench-report';
import { replaceBenchmarkSection } from '../../bench/support/benchmark-doc';
import { goalsTable, orderReports, parseBenchReport, performanceSection, plotToVegaLite, renderPlotSvg, type NamedReport } from '../../bench/support/report-render';

const machine = { cpu: 'AMD EPYC 7B13', cores: 2, memoryGb: 24, node: 'v20.20.2', onnxruntime: '1.30.0', platform: 'linux 6.1' };

function fixture(name: string, overrides: Partial<BenchReport> = {}): NamedReport {
  return parseBenchReport(name, {
    heading: `Heading of ${name}`,
    command: `npx tsx bench/${name}.bench.ts`,
    startedAt: '2026-11-29T16:00:00.000Z',
    finishedAt: '2026-11-29T16:02:30.000Z',
    loadAverage: { start: 1.5, end: 2.25 },
    machine,
    model: 'GLM-Edge shape, 151k vocabulary',
    method: 'Alternating rounds, medians.',
    markdown: '| a | b |\n| --- | --- |\n| 1 | 2 |',
    goals: [],
    plots: [],
    raw: { samples: [1, 2, 3] },
    ...overrides,
  });
}

const decodePlot = {
  file: 'engine-decode.svg',
  title: 'Decode cost vs context',
  xLabel: 'context tokens',
  yLabel: 'ms per token',
  xLog: true,
  series: [
    { name: 'bare loop', points: [[32, 25], [512, 30], [2048, 41]] as Array<[number, number]> },
    { name: 'GlmModel', points: [[32, 26], [512, 31], [2048, 40]] as Array<[number, number]> },
  ],
};

describe('bench report rendering', () => {
  it('gathers every report goal into one table with met marks and the benchmark name', () => {
    const table = goalsTable([
      fixture('engine', { goals: [{ goal: 'GlmModel decode >= 0.97x the bare loop', measured: '0.99x (25.1 | 25.4 ms)', met: true }] }),
      fixture('sampling', {
        goals: [
          { goal: 'top-p <= 1 ms per token', measured: '0.42 ms', met: true },
          { goal: 'constrained overhead <= 3%', measured: '4.1%', met: false },
        ],
      }),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| goal | measured | met | benchmark |');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toBe('| GlmModel decode >= 0.97x the bare loop | 0.99x (25.1 \\| 25.4 ms) | ✓ | engine |');
    expect(lines[4]).toBe('| constrained overhead <= 3% | 4.1% | ✗ | sampling |');
    expect(goalsTable([fixture('memory')])).toContain('No goals');
  });

  it('assembles the Performance section: machine, command, goals, one subsection per report in suite order, images', () => {
    const section = performanceSection([
      fixture('sampling', { goals: [{ goal: 'top-p <= 1 ms', measured: '0.4 ms', met: true }] }),
      fixture('engine', { plots: [decodePlot], markdown: '## stray heading\n\ntext' }),
    ]);
    expect(section.startsWith('## Performance\n')).toBe(true);
    expect(section).toContain('npm run bench:report');
    expect(section).toContain('Machine: AMD EPYC 7B13, 2 cores, 24 GB, linux 6.1, Node v20.20.2, onnxruntime-node 1.30.0.');
    expect(section).toContain('| top-p <= 1 ms | 0.4 ms | ✓ | sampling |');
    expect(section.indexOf('### Heading of engine')).toBeLessThan(section.indexOf('### Heading of sampling'));
    expect(section).toContain('Command: `npx tsx bench/engine.bench.ts`');
    expect(section).toContain('load average (1 min) 1.50 at the start, 2.25 at the end');
    expect(section).toContain('(2.5 min)');
    expect(section).toContain('![Decode cost vs context](benchmarks/engine-decode.svg)');
    // A report's own "##" heading must not end the section.
    expect(section).not.toMatch(/^## stray/m);
    expect(section).toContain('#### stray heading');
    expect(orderReports([fixture('zeta'), fixture('memory'), fixture('engine')]).map((r) => r.name)).toEqual(['engine', 'memory', 'zeta']);
  });

  it('lists each machine when the reports ran on different machines', () => {
    const section = performanceSection([fixture('engine'), fixture('memory', { machine: { ...machine, cores: 8 } })]);
    expect(section).toContain('Machines (the reports ran on different machines):');
    expect(section).toContain('- memory: AMD EPYC 7B13, 8 cores');
  });

  it('replaces only its own section of the document and keeps a blank line before the next one', () => {
    const doc = '# Benchmarks\n\n## Engine\n\nold engine\n## Performance\n\nold perf\n\n## Agent\n\nagent text\n';
    const updated = replaceBenchmarkSection(doc, 'Performance', '## Performance\n\nnew perf\n');
    expect(updated).toBe('# Benchmarks\n\n## Engine\n\nold engine\n## Performance\n\nnew perf\n\n## Agent\n\nagent text\n');
    const appended = replaceBenchmarkSection('# Benchmarks\n', 'Performance', '## Performance\n\nx');
    expect(appended).toBe('# Benchmarks\n\n## Performance\n\nx\n');
  });

  it('rejects a malformed result file naming the field', () => {
    expect(() => parseBenchReport('engine', { heading: 'x' }, 'engine.json')).toThrow(/engine\.json: command/);
    expect(() => fixture('engine', { plots: [{ ...decodePlot, file: '../escape.svg' }] })).toThrow(/plots\.0\.file/);
  });

  it('draws a line chart as SVG with both series in the legend, labelled axes and a log x scale', async () => {
    const spec = plotToVegaLite(decodePlot) as { encoding: { x: { scale: { type?: string } } } };
    expect(spec.encoding.x.scale.type).toBe('log');
    const svg = await renderPlotSvg(decodePlot);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['bare loop', 'GlmModel', 'context tokens', 'ms per token', 'Decode cost vs context', '2048']) expect(svg).toContain(text);
    expect(svg.match(/<path/g)!.length).toBeGreaterThan(2);
  });
});
