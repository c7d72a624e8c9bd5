/**
 * Issue 18 item 6: a missing, unreadable or out-of-sandbox inputFile used to become "Input file: <path>" in the
 * prompt and the financial preset answered anyway with a FinancialSummary. Now the run fails with a typed error
 * before the model is called. The preset runs with its real PDF tools; the model only records that it was not asked.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoAgent } from '../../src/agent/auto-agent';
import { AgentInputError, PathOutsideSandboxError } from '../../src/errors';
import { ScriptedModel } from '../support/scripted-model';

let base: string;
let served: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'autoglm-input-file-')));
  served = join(base, 'served');
  mkdirSync(join(served, 'folder.pdf'), { recursive: true });
  mkdirSync(join(base, 'private'));
  writeFileSync(join(base, 'private/other-client.pdf'), '%PDF-1.4 private');
  writeFileSync(join(served, 'notes.txt'), 'revenue was 40');
  execFileSync('mkfifo', [join(served, 'pipe.pdf')]);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

function financialAgent(model: ScriptedModel): AutoAgent {
  return new AutoAgent({ task: 'summarize_financial_report', model, roots: [served] });
}

describe('summarize_financial_report refuses an input file it cannot read', () => {
  it.each([
    ['a missing file', () => join(served, 'missing.pdf'), AgentInputError, /does not exist/],
    ['a folder', () => join(served, 'folder.pdf'), PathOutsideSandboxError, /a folder, not a regular file/],
    ['a FIFO (without blocking)', () => join(served, 'pipe.pdf'), PathOutsideSandboxError, /FIFO/],
    ['a file outside the sandbox', () => join(base, 'private/other-client.pdf'), PathOutsideSandboxError, /refused by the file sandbox/],
    ['a .. path out of the sandbox', () => join(served, '../private/other-client.pdf'), PathOutsideSandboxError, /refused/],
  ])('%s', async (_, inputFile, type, message) => {
    const model = new ScriptedModel([], { fallback: '\n{}' });
    const error = await financialAgent(model).run({ inputFile: inputFile() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(model.calls).toHaveLength(0);
  });

  it('needs an inputFile at all', async () => {
    const model = new ScriptedModel([], { fallback: '\n{}' });
    await expect(financialAgent(model).run('summarize the report please')).rejects.toThrow(AgentInputError);
    await expect(financialAgent(model).run({ company: 'ACME' })).rejects.toThrow(/run it with \{ inputFile/);
    expect(model.calls).toHaveLength(0);
  });

  it('reaches the model when the file is there', async () => {
    // Only the check before the first step matters here: any readable file passes it.
    const report = join(served, 'report.pdf');
    writeFileSync(report, '%PDF-1.4\n');
    const model = new ScriptedModel([], { fallback: '\n{}' });
    await financialAgent(model).run({ inputFile: report }, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
    expect(model.calls.length).toBeGreaterThan(0);
    expect(model.calls[0]!.prompt).toContain(`Input file: ${report}`);
  });
});

describe('an agent without file tools checks the file too', () => {
  it('fails a missing inputFile with AgentInputError, and reads an existing one', async () => {
    const model = new ScriptedModel(['\nok']);
    const agent = new AutoAgent({ task: 'Read the notes', model });
    const error = await agent.run({ inputFile: join(base, 'nope.txt') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentInputError);
    expect(error).toMatchObject({ code: 'AGENT_INPUT', details: { inputFile: join(base, 'nope.txt'), errno: 'ENOENT' } });
    expect(model.calls).toHaveLength(0);
    await expect(agent.run({ inputFile: join(served, 'notes.txt') })).resolves.toMatchObject({ output: 'ok' });
  });
});
