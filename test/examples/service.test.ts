/**
 * examples/service: the HTTP service around AutoAgent, on 127.0.0.1 and an ephemeral port, with a scripted model.
 */
import type { AddressInfo } from 'node:net';
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

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function start() {
  const model = new ScriptedModel([], { fallback: `\n${JSON.stringify(summary)}` });
  const server = createSummaryService({ model, directory: path.resolve('examples/financial-report'), maxSteps: 1 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, model };
}

describe('examples/service', () => {
  it('POST /summarize runs the preset on a PDF of the served folder and returns the summary', async () => {
    const { url, model } = await start();
    const response = await fetch(`${url}/summarize`, { method: 'POST', body: JSON.stringify({ file: 'EBAY_2023Q1_EARNINGS.pdf' }) });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ summary, steps: 1 });
    expect(model.calls[0]!.prompt).toContain('EBAY_2023Q1_EARNINGS.pdf');
  });

  it('refuses bad requests and paths outside the served folder', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/summarize`, { method: 'POST', body: '{"path":1}' })).status).toBe(400);
    const outside = await fetch(`${url}/summarize`, { method: 'POST', body: JSON.stringify({ file: '../../package.json' }) });
    expect(outside.status).toBe(400);
    expect(await outside.json()).toMatchObject({ error: { code: 'PATH_OUTSIDE_SANDBOX' } });
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });
});
