/**
 * The status page in a real browser (Debian's chromium through playwright-core): it shows the models and their
 * versions, follows a run live to `succeeded`, and rolls a model back from the page. Saves
 * test-artifacts/status-page.png for review.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { z } from 'zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ToolRegistry, Workflow, createTinyGlm, defineTool } from '../../src/index';
import { createServer, type AutoglmServer } from '../../src/server/create-server';
import { ModelRegistry } from '../../src/server/model-registry';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const apiKey = 'status-api-key';
const adminKey = 'status-admin-key';
let root: string;
let registry: ModelRegistry;
let server: AutoglmServer;
let browser: Browser;
let url: string;
let versions: { a: string; b: string };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ops-status-page-'));
  const a = (await createTinyGlm(path.join(root, 'a'), { seed: 21 })).directory;
  const b = (await createTinyGlm(path.join(root, 'b'), { seed: 22 })).directory;
  registry = await ModelRegistry.open({ models: { tiny: a }, loadOptions: { threads: 1 } });
  const va = registry.activeVersion('tiny');
  versions = { a: va, b: (await registry.update('tiny', b)).version };
  const tools = new ToolRegistry([
    defineTool({
      name: 'wait',
      description: 'Waits a while, then returns how long.',
      input: z.object({ ms: z.number() }),
      execute: async ({ ms }, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return { waited: ms, step: ctx.stepId };
      },
    }),
    defineTool({
      name: 'complete',
      description: 'Completes a prompt with the served model.',
      input: z.object({ prompt: z.string() }),
      execute: async ({ prompt }, ctx) => (await ctx.model!.generate(prompt, { maxNewTokens: 4 })).text,
    }),
  ]);
  const workflow = Workflow.define(
    {
      name: 'status-demo',
      steps: [
        { id: 'fetch', uses: 'wait', with: { ms: 400 } },
        { id: 'draft', uses: 'complete', needs: ['fetch'], with: { prompt: 'Summarise' } },
        { id: 'review', uses: 'wait', needs: ['draft'], with: { ms: 400 } },
      ],
    },
    { tools },
  );
  server = await createServer({ models: registry, port: 0, apiKey, adminKey, runs: { dataDir: path.join(root, 'data'), workflows: [workflow], tools } });
  url = await server.listen();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await registry?.dispose();
  await rm(root, { recursive: true, force: true });
});

it('shows versions, follows a run live and rolls back from the page', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));

  const response = await page.goto(url);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'sha256-");
  await expect.poll(() => page.textContent('#live')).toBe('enter the API key');
  // Without the key the data routes answered 401, which chromium logs; from here on the console must stay clean.
  expect(problems.every((problem) => problem.includes('401'))).toBe(true);
  problems.length = 0;
  await page.fill('#api-key', apiKey);
  await page.fill('#admin-key', adminKey);
  await page.click('#keys button[type=submit]');
  await page.waitForSelector(`tr[data-model="tiny"] .active-version >> text=${versions.b}`);
  expect(await page.textContent('tr[data-model="tiny"]')).toContain(versions.a); // the previous version, loaded

  const started = await fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workflow: 'status-demo' }),
  });
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as { id: string };
  // Seen running first (live updates), then succeeded with every step's duration.
  await page.waitForSelector(`tr[data-run="${id}"] .status.running`, { timeout: 10_000 });
  await page.waitForSelector(`tr[data-run="${id}"] .status.succeeded`, { timeout: 30_000 });
  const runRow = (await page.textContent(`tr[data-run="${id}"]`)) ?? '';
  for (const step of ['fetch', 'draft', 'review']) expect(runRow).toContain(step);
  expect(runRow).toMatch(/fetch succeeded\s*\d+ ms/);
  expect(runRow).toContain(versions.b);

  await page.click('button[data-action="rollback"][data-model="tiny"]');
  await page.waitForSelector(`#message >> text=now serving ${versions.a}`);
  await page.waitForSelector(`tr[data-model="tiny"] .active-version >> text=${versions.a}`);
  expect(registry.activeVersion('tiny')).toBe(versions.a);

  await mkdir(path.join(repositoryRoot, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(repositoryRoot, 'test-artifacts', 'status-page.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
});
