/**
 * Prefix reuse on the real engine: while the agent's prompts only grow, each step prefills only what is new since
 * the previous prompt, and a greedy (or seeded) run gives the same steps and answer with the prefix cache off.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentResult } from '../../src/agent/agent-events';
import { AutoAgent } from '../../src/agent/auto-agent';
import { defineTool } from '../../src/tools/define-tool';
import { RecordingModel } from '../support/recording-model';
import { useTinyModel } from './onnx-helpers';

const tiny = useTinyModel('agent-prefix', { seed: 5 });

const tools = [
  defineTool({
    name: 'ledger.read',
    description: 'Read the ledger entry of a month',
    input: z.object({ month: z.number().int().min(1).max(12), kind: z.enum(['sales', 'costs']) }),
    execute: ({ month, kind }) => ({ month, kind, amount: month * (kind === 'sales' ? 100 : 40) }),
  }),
  defineTool({
    name: 'ledger.sum',
    description: 'Add amounts',
    input: z.object({ amounts: z.array(z.number().int().min(0).max(9999)).max(3) }),
    execute: ({ amounts }) => amounts.reduce((sum, amount) => sum + amount, 0),
  }),
];
const Output = z.object({ profit: z.number().int().min(-99999).max(99999), months: z.number().int().min(1).max(12) });

function agent(prefixCache: boolean, temperature: number) {
  return new AutoAgent({
    task: 'Compute the profit of the first quarter from the ledger.',
    model: tiny.model,
    tools,
    schema: Output,
    maxSteps: 6,
    plan: false,
    generation: { temperature, maxNewTokens: 48, prefixCache },
  });
}

function summary(result: AgentResult) {
  return { finishReason: result.finishReason, output: result.output, steps: result.steps.map(({ kind, toolCall, result: value, text }) => ({ kind, toolCall, result: value, text })) };
}

describe('prefix reuse across agent steps (tiny ONNX model)', () => {
  it('steps 2..n prefill only their new tokens; runs equal those without the prefix cache', async () => {
    const greedy = await agent(true, 0).run('First quarter profit?');
    expect(summary(greedy)).toEqual(summary(await agent(false, 0).run('First quarter profit?')));

    // Whether a random-weight model calls tools or answers at once depends on its weights and tokenizer; take the
    // first sampling seed whose run makes several tool steps (the property holds for any run; this one shows it).
    let cached: AgentResult | undefined;
    let seed = 0;
    for (; seed < 16 && (cached === undefined || cached.steps.length < 4); seed++) {
      cached = await agent(true, 1).run('First quarter profit?', { seed });
    }
    expect(cached!.steps.length, 'no seed in 0..15 gave a run of 4 or more steps').toBeGreaterThanOrEqual(4);
    const uncached = await agent(false, 1).run('First quarter profit?', { seed: seed - 1 });
    expect(summary(cached!)).toEqual(summary(uncached));
    expect(uncached.steps.every((step) => step.usage!.cachedTokens === 0)).toBe(true);

    const steps = cached!.steps;
    const rows = steps.map((step) => ({ kind: step.kind, forced: step.forced === true, ...step.usage! }));
    console.log(`prefix reuse, sampled run (seed ${seed - 1}): ${JSON.stringify(rows)}`);
    for (let index = 1; index < steps.length; index++) {
      const previous = steps[index - 1]!.usage!;
      const usage = steps[index]!.usage!;
      // Everything the cache held is reused: the previous prompt and the previous output (all but its last token,
      // which was sampled but never run), the forced final answer included (it keeps the tools in its prompt).
      expect(usage.cachedTokens).toBe(previous.promptTokens + previous.completionTokens - 1);
      expect(usage.prefillTokens).toBe(usage.promptTokens - usage.cachedTokens);
    }
    }, 120_000);

  it('sampled runs with the same seed are the same with and without the prefix cache', async () => {
    const cached = await agent(true, 1).run('First quarter profit?', { seed: 7 });
    const uncached = await agent(false, 1).run('First quarter profit?', { seed: 7 });
    expect(summary(cached)).toEqual(summary(uncached));
    expect(cached.usage.prefillTokens).toBeLessThan(uncached.usage.prefillTokens);
  }, 120_000);

  it('step 2 runs only the new turn: its prompt is step 1 prompt + the generated ids + the observation turn', async () => {
    const recording = new RecordingModel(tiny.model, { recordPromptIds: true });
    let run: AgentResult | undefined;
    for (let seed = 0; seed < 16 && (run === undefined || run.steps[0]!.kind !== 'tool' || !run.steps[0]!.result?.ok); seed++) {
      recording.generations.length = 0;
      run = await new AutoAgent({
        task: 'Compute the profit of the first quarter from the ledger.',
        model: recording,
        tools,
        schema: Output,
        maxSteps: 2,
        plan: false,
        generation: { temperature: 1, maxNewTokens: 48 },
      }).run('First quarter profit?', { seed });
    }
    expect(run!.steps[0]!.kind, 'no seed in 0..15 made a successful tool call at step 1').toBe('tool');
    const [first, second] = recording.generations.map((generation) => generation.promptIds!) as [number[], number[]];
    const generated = recording.generations[0]!.result.tokenIds;
    const stops = new Set(tiny.model.info.eosTokenIds);
    const content = stops.has(generated.at(-1)!) ? generated.slice(0, -1) : generated;
    // The new turn, encoded on its own (it starts at a special token, so this is how the whole prompt encodes it).
    const observation = JSON.stringify(run!.steps[0]!.result!.ok ? run!.steps[0]!.result!.value : undefined);
    const newTurn = tiny.model.tokenize(`<|observation|>\n${observation}<|user|>\nNo steps are left. Stop calling tools and give your final answer now, from what you have.<|assistant|>`);
    expect(second).toEqual([...first, ...content, ...newTurn]);
    // Exact apart from the split of the model's own output: the same text as the chat template renders.
    expect(tiny.model.tokenizer.decode(second)).toBe(tiny.model.tokenizer.decode(tiny.model.tokenize(tiny.model.tokenizer.decode(second))));
    const usage = run!.steps[1]!.usage!;
    expect(usage.cachedTokens).toBe(first.length + generated.length - 1);
    expect(usage.prefillTokens).toBe(newTurn.length + content.length - (generated.length - 1));
  }, 120_000);
});
