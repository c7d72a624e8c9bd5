/**
 * The seed example on the real engine: `new AutoAgent({ task: 'summarize_financial_report', model: directory })` then
 * `run({ inputFile })` on a real earnings release from the shared corpus, with a tiny random-weight GLM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoAgent } from '../../src/agent/auto-agent';
import { FinancialSummary } from '../../src/agent/presets/summarize-financial-report';
import { repoRoot, useTinyModelDirectory } from './onnx-helpers';

const corpus = path.resolve(repoRoot, '../shared/corpus/financial');
const filing = path.join(corpus, 'COSTCO_2023Q1_EARNINGS.pdf');
const present = existsSync(filing);
if (!present) console.warn(`financial-preset-onnx: ${filing} is absent; the seed example on a real filing is skipped.`);

const tiny = useTinyModelDirectory('agent-financial', { seed: 21 });

describe.skipIf(!present)('summarize_financial_report on a real filing (tiny ONNX model)', () => {
  it('runs as the seed example writes it and returns a valid FinancialSummary', async () => {
    // Two overrides, both for the tiny model and neither for the agent: maxSteps 2 (not 12: one tool call, then the
    // forced answer) bounds the time, since a random-weight model writes every string to its maxLength or budget; maxNewTokens 3000 (not 1024) because the tiny
    // tokenizer has a few hundred tokens of about one character each, and the summary JSON may reach ~2,900
    // characters (the preset's 1024 tokens suit GLM's 151k vocabulary). With the real Qwen3 vocabulary and the
    // defaults the same run passes too, but XGrammar's compilation of the preset's grammars for 151k tokens takes
    // most of two minutes on a loaded 2-core machine.
    const agent = new AutoAgent({
      task: 'summarize_financial_report',
      model: tiny.directory,
      maxSteps: 2,
      generation: { maxNewTokens: 3000 },
    });
    try {
      const result = await agent.run({ inputFile: filing });
      expect(['answer', 'max-steps', 'loop']).toContain(result.finishReason);
      expect(FinancialSummary.safeParse(result.output).success).toBe(true);
      const calls = result.steps.filter((step) => step.toolCall !== undefined);
      for (const step of calls) expect(['pdf.extract', 'pdf.search']).toContain(step.toolCall!.name);
      console.log(
        `financial preset: ${result.finishReason}, steps ${result.steps.map((step) => step.toolCall?.name ?? step.kind).join(' > ')}, usage ${JSON.stringify(result.usage)}`,
      );
    } finally {
      await agent.dispose();
    }
  }, 180_000);
});
