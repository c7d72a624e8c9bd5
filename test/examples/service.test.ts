/**
 * examples/service: the embedded createServer with the summarize_financial_report agent behind the runs API, on
 * 127.0.0.1 and an ephemeral port, with a scripted model (the server itself is tested on real ONNX models in
 * test/server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSummaryService } from '../../examples/service/server';
import { ScriptedModel } from '../support/scripted-model';

const summary = {
  company: 'eBay Inc.',
  period: 'Three Months Ended March 31, 2023',
  currency: 'USD',
  revenue: { value: 2510, unit: 'millions', page: 8 },
  netIncome: { value: 567, unit: 'millions', page: 8 },
  operatingCashFlow: { value: 841, unit: 'millions', page: 9 },
  highlights: ['Revenue grew 1%'],
  risks: [],
};

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function start() {
  const model = new ScriptedModel([], { fallback: `\n${JSON.stringify(summary)}` });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'service-example-'));
  const server = await createSummaryService({ model, directory: path.resolve('examples/financial-report'), dataDir, port: 0 });
  const url = await server.listen();
  cleanup = async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { url, model };
}

const startRun = (url: string, inputs: Record<string, unknown>) =>
  fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent: { task: 'summarize_financial_report', maxSteps: 1 }, inputs }),
  });

async function finished(url: string, id: string): Promise<{ status: string; outputs: Record<string, unknown>; steps: Record<string, { error?: { code: string } }> }> {
  for (;;) {
    const run = (await (await fetch(`${url}/v1/runs/${id}`)).json()) as { status: string; outputs: Record<string, unknown>; steps: Record<string, { error?: { code: string } }> };
    if (run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('examples/service', () => {
  it('summarises a PDF of the served folder through the runs API', async () => {
    const { url, model } = await start();
    const created = await startRun(url, { inputFile: 'EBAY_2023Q1_EARNINGS.pdf' });
    expect(created.status).toBe(202);
    const run = await finished(url, ((await created.json()) as { id: string }).id);
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual({ agent: summary });
    expect(model.calls.some((call) => call.prompt.includes('EBAY_2023Q1_EARNINGS.pdf'))).toBe(true);
  });

  it('refuses paths outside the served folder and unknown routes', async () => {
    const { url } = await start();
    const created = await startRun(url, { inputFile: '../../package.json' });
    const run = await finished(url, ((await created.json()) as { id: string }).id);
    expect(run.status).toBe('failed');
    expect(run.steps.agent!.error!.code).toBe('PATH_OUTSIDE_SANDBOX');
    expect((await fetch(`${url}/summarize`, { method: 'POST' })).status).toBe(404);
  });
});
