/**
 * The financial-report example end to end, as the contract runs it: `autoglm run
 * examples/financial-report/workflow.yaml --model DIR --json` on a tiny random model. The prose is nonsense; the
 * figures must be the real ones of eBay's Q1 2023 earnings release (read from the PDF: net revenues $2,510 million,
 * net income $567 million on page 8, net cash provided by operating activities $841 million on page 9, diluted EPS
 * $1.05).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinancialSummary } from '../../src/agent/presets/summarize-financial-report';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import { runCli } from '../cli/run-cli';

let temp: string;
let modelDir: string;
beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), 'autoglm-example-'));
  modelDir = path.join(temp, 'model');
  await createTinyGlm(modelDir, { family: 'glm', seed: 1 });
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

describe('examples/financial-report', () => {
  it('runs end to end with a tiny model: outputs hold a FinancialSummary with the filing\'s real figures, report.json and report.md are written', async () => {
    const outputDir = path.join(temp, 'out');
    const run = await runCli([
      'run', 'examples/financial-report/workflow.yaml', '--model', modelDir, '--json',
      '--root', outputDir, '--input', `outputDir=${outputDir}`,
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.status).toBe('succeeded');
    // With the default token budget even a random model's constrained draft closes its JSON: every step succeeds.
    for (const step of ['extract', 'figures', 'summary', 'compose', 'write']) expect(result.steps[step].status).toBe('succeeded');

    const summary = FinancialSummary.parse(result.outputs.summary);
    expect(summary).toMatchObject({
      period: 'Three Months Ended March 31, 2023',
      currency: 'USD',
      revenue: { value: 2510, unit: 'millions', page: 8 },
      netIncome: { value: 567, unit: 'millions', page: 8 },
      operatingCashFlow: { value: 841, unit: 'millions', page: 9 },
      eps: { value: 1.05, unit: 'units', page: 8 },
    });
    expect(result.outputs.notice).toMatch(/read from the filing .* are real.*tiny random-weight demo model writes nonsense/);
    expect(result.outputs.checks.map((check: { figure: string }) => check.figure)).toEqual(['revenue', 'netIncome', 'operatingCashFlow', 'eps']);
    expect(['valid', 'invalid']).toContain(result.outputs.draftStatus);

    expect(result.outputs.files).toEqual({ json: path.join(outputDir, 'report.json'), markdown: path.join(outputDir, 'report.md') });
    const json = JSON.parse(await readFile(path.join(outputDir, 'report.json'), 'utf8'));
    const written = FinancialSummary.parse(json);
    expect(written).toEqual(summary);
    // The random model's prose is marked unverified, and its figures never pass as agreeing with the filing.
    expect(json.verification.modelWritten).toMatchObject({ fields: ['company', 'highlights', 'risks'], verified: false, trust: 'low' });
    expect(json.verification.modelFigures.every((check: { status: string }) => check.status !== 'agrees')).toBe(true);
    const markdown = await readFile(path.join(outputDir, 'report.md'), 'utf8');
    expect(markdown).toContain('| revenue | 2,510 USD millions | 8 | Net revenues |');
    expect(markdown).toContain('| operatingCashFlow | 841 USD millions | 9 | Net cash provided by operating activities |');
    expect(markdown).toMatch(/tiny random-weight demo model writes nonsense/);
  }, 150_000);
});
