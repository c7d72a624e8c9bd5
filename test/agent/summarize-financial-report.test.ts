import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import { FinancialSummary } from '../../src/agent/presets/summarize-financial-report';
import { defineTool } from '../../src/tools/define-tool';
import type { Tool } from '../../src/tools/tool';
import { ScriptedModel } from '../support/scripted-model';
import { promptMessages } from './helpers';

// The preset's seams (GlmModel.load and the built-in pdfTools live on other branches) are replaced by fakes here,
// so `new AutoAgent({ task, model: directory })` then `run({ inputFile })` is exercised exactly as users write it.
const fakes = vi.hoisted(() => ({ model: undefined as unknown, tools: [] as unknown[], loaded: [] as string[] }));
vi.mock('../../src/agent/default-modules', () => ({
  loadGlmModel: async (directory: string) => {
    fakes.loaded.push(directory);
    return fakes.model;
  },
  loadPdfTools: async () => fakes.tools,
}));

const summary: FinancialSummary = {
  company: 'Example Corp',
  period: 'fiscal year 2024',
  currency: 'USD',
  revenue: { value: 391035, unit: 'millions', page: 28 },
  netIncome: { value: 93736, unit: 'millions', page: 28 },
  operatingCashFlow: { value: 118254, unit: 'millions', page: 32 },
  eps: { value: 6.08, unit: 'units', page: 28 },
  highlights: ['Revenue grew 2%'],
  risks: ['Supply chain concentration'],
};

let directory: string;
let reportPath: string;
const reads: string[] = [];

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'autoglm-agent-'));
  reportPath = path.join(directory, 'report.pdf');
  await writeFile(reportPath, 'FAKE PDF BYTES: total net sales 391,035');
  const search = defineTool({
    name: 'pdf.search',
    description: 'Search the pages of a PDF',
    input: z.object({ path: z.string(), query: z.string() }),
    execute: async (args, ctx) => {
      const bytes = await ctx.files.readFile(args.path);
      reads.push(args.path);
      return { hits: [{ page: 28, text: new TextDecoder().decode(bytes) }] };
    },
  });
  const extract = defineTool({
    name: 'pdf.extract',
    description: 'Extract pages of a PDF',
    input: z.object({ path: z.string(), pages: z.array(z.number()).optional() }),
    execute: async (args, ctx) => new TextDecoder().decode(await ctx.files.readFile(args.path)),
  });
  fakes.tools = [search, extract] satisfies Tool[];
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('summarize_financial_report preset', () => {
  it('runs as written: new AutoAgent({ task, model: directory }).run({ inputFile }) gives a typed FinancialSummary', async () => {
    const model = new ScriptedModel([
      `\n${JSON.stringify({ steps: [{ tool: 'pdf.search', goal: 'find revenue' }] })}`,
      `pdf.search\n${JSON.stringify({ path: reportPath, query: 'total net sales' })}`,
      `pdf.extract\n${JSON.stringify({ path: '/etc/passwd' })}`,
      '\n{"steps":[]}',
      `\n${JSON.stringify(summary)}`,
    ]);
    fakes.model = model;
    const agent = new AutoAgent<FinancialSummary>({ task: 'summarize_financial_report', model: '/models/glm-edge-1.5b' });
    const result = await agent.run({ inputFile: reportPath });

    expect(fakes.loaded).toEqual(['/models/glm-edge-1.5b']);
    expect(result.finishReason).toBe('answer');
    expect(FinancialSummary.parse(result.output)).toEqual(summary);
    expect(result.output?.revenue.page).toBe(28);
    // The default tools read the input file through the sandbox rooted at its directory, and nothing outside it.
    expect(reads).toEqual([reportPath]);
    expect(result.steps[2]!.result).toMatchObject({ ok: false, error: { code: 'PATH_OUTSIDE_SANDBOX' } });
    expect(result.steps.map((step) => step.kind)).toEqual(['plan', 'tool', 'tool', 'plan', 'answer']);
    // The plan and the answer are constrained; the model is told which file to use, in user content.
    expect(model.calls[0]!.options.tools!.map((tool) => tool.name).sort()).toEqual(['pdf.extract', 'pdf.search']);
    expect(model.calls[4]!.options.schema).toBe(FinancialSummary);
    expect(model.calls.every((call) => call.options.maxNewTokens === 1024)).toBe(true);
    const messages = promptMessages(model.calls[4]!.prompt);
    expect(messages.find((message) => message.role === 'user')!.body).toContain(`Input file: ${reportPath}`);
    const system = messages.filter((message) => message.role === 'system').map((message) => message.body).join('');
    expect(system).toContain('Summarize the financial report');
    expect(system).not.toContain('FAKE PDF BYTES');
    await agent.dispose();
    expect(model.disposed).toBe(true);
  });

  it('describes every figure with value, unit and page in the schema the model is shown', () => {
    const schema = z.toJSONSchema(FinancialSummary) as { required: string[]; properties: Record<string, { required?: string[] }> };
    expect(schema.required).toEqual(['company', 'period', 'currency', 'revenue', 'netIncome', 'operatingCashFlow', 'highlights', 'risks']);
    expect(schema.properties.revenue!.required).toEqual(['value', 'unit', 'page']);
    expect(FinancialSummary.safeParse({ ...summary, revenue: { value: 1, unit: 'lakhs', page: 1 } }).success).toBe(false);
    expect(FinancialSummary.safeParse({ ...summary, eps: undefined }).success).toBe(true);
  });
});
