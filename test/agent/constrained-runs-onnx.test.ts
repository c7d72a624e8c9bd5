/**
 * 200 grammar-constrained agent runs on a tiny random-weight GLM (real ONNX Runtime), sampled at temperature 1 over
 * seeds and three tool sets: every completed tool call names a registered tool with arguments its zod schema
 * accepts, and every final output passes the output schema. Runs are short (maxSteps 3, 48 tokens per step).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import { AgentOutputError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { pdfTools } from '../../src/tools/pdf/pdf-tools';
import type { Tool } from '../../src/tools/tool';
import { repoRoot, useTinyModel, wasCutOff } from './onnx-helpers';

const tiny = useTinyModel('agent-runs', { seed: 11, layers: 1, hiddenSize: 32, heads: 2, kvHeads: 1 });

const calculator: Tool[] = [
  defineTool({
    name: 'calc.compute',
    description: 'Apply an operation to two integers',
    input: z.object({ op: z.enum(['add', 'sub', 'mul']), a: z.number().int().min(-1000).max(1000), b: z.number().int().min(0).max(99) }),
    execute: ({ op, a, b }) => ({ result: op === 'add' ? a + b : op === 'sub' ? a - b : a * b }),
  }),
  defineTool({
    name: 'calc.round',
    description: 'Round a number',
    input: z.object({ value: z.number().min(0).max(10), up: z.boolean() }),
    execute: ({ value, up }) => (up ? Math.ceil(value) : Math.floor(value)),
  }),
];

const inventory: Tool[] = [
  defineTool({
    name: 'stock.add',
    description: 'Add an item to the inventory',
    input: z.object({
      item: z.object({ name: z.string().min(1).max(8), tags: z.array(z.enum(['new', 'used', 'bulk'])).max(3), quantity: z.number().int().min(1).max(9) }),
      notes: z.array(z.object({ key: z.enum(['color', 'size']), value: z.number().int().min(0).max(99) })).max(2),
    }),
    execute: ({ item }) => ({ added: item.name }),
  }),
  defineTool({
    name: 'stock.list',
    description: 'List the items with a tag',
    input: z.object({ tag: z.enum(['new', 'used', 'bulk']).optional() }),
    execute: () => ({ items: ['bolt', 'nut'] }),
  }),
];

const Output = z.object({ total: z.number().int().min(-100000).max(100000), label: z.enum(['low', 'high']), ok: z.boolean() });

const toolSets: Array<{ name: string; tools: Tool[]; input: unknown; plan: boolean }> = [
  { name: 'calculator', tools: calculator, input: 'What is 12 times 7, rounded?', plan: true },
  { name: 'inventory', tools: inventory, input: 'Add three new bolts, then list the new items.', plan: false },
  { name: 'pdf', tools: pdfTools, input: { inputFile: path.join(repoRoot, 'test/fixtures/jnj-8k-2-pages.pdf') }, plan: true },
];

describe('constrained agent runs on a tiny ONNX model', () => {
  it('200 sampled runs: every completed call is valid for its tool, every output valid for the schema', async () => {
    const counts = { runs: 0, calls: 0, validCalls: 0, cutCalls: 0, outputs: 0, validOutputs: 0, cutOutputs: 0, finishReasons: {} as Record<string, number> };
    const invalid: string[] = [];
    for (let run = 0; run < 200; run++) {
      const set = toolSets[run % toolSets.length]!;
      const agent = new AutoAgent({
        task: 'Answer the request with the tools, then give the total, a label and whether it worked.',
        model: tiny.model,
        tools: set.tools,
        roots: [path.join(repoRoot, 'test/fixtures')],
        schema: Output,
        maxSteps: 3,
        plan: set.plan,
        generation: { temperature: 1, maxNewTokens: 48 },
      });
      counts.runs++;
      try {
        const result = await agent.run(set.input as string, { seed: run });
        counts.finishReasons[result.finishReason] = (counts.finishReasons[result.finishReason] ?? 0) + 1;
        for (const step of result.steps) {
          if (step.kind !== 'tool') continue;
          if (wasCutOff(step)) {
            counts.cutCalls++;
            continue;
          }
          counts.calls++;
          const tool = set.tools.find((candidate) => candidate.name === step.toolCall?.name);
          if (tool !== undefined && tool.input.safeParse(step.toolCall!.args).success) counts.validCalls++;
          else invalid.push(`${set.name} run ${run}: ${JSON.stringify(step.text)}`);
        }
        counts.outputs++;
        if (Output.safeParse(result.output).success) counts.validOutputs++;
        else invalid.push(`${set.name} run ${run} output: ${JSON.stringify(result.output)}`);
      } catch (error) {
        // Only a final answer cut off by the 48-token budget may fail; the grammar itself never yields invalid JSON.
        expect(error).toBeInstanceOf(AgentOutputError);
        expect((error as Error).message).toContain('cut off at 48 tokens');
        counts.cutOutputs++;
      }
    }
    console.log(`constrained agent runs: ${JSON.stringify(counts)}`);
    expect(invalid).toEqual([]);
    expect(counts.runs).toBe(200);
    expect(counts.validCalls).toBe(counts.calls);
    expect(counts.validOutputs).toBe(counts.outputs);
    expect(counts.calls).toBeGreaterThan(100);
    expect(counts.outputs).toBeGreaterThan(150);
  }, 240_000);
});
