/**
 * Engine benchmark of the performance suite (issue 7): on the GLM-Edge-shaped 151k-vocabulary model in three graphs
 * (fp32 Optimum, fp32 GroupQueryAttention with a shared KV buffer, int4 MatMulNBits), each contender (the bare
 * `session.run` loop = the floor of that graph, GlmModel, transformers.js `generate`) measures, at each context,
 * the cold time to first token (prefill), every token-to-token decode interval and its peak RSS. Every
 * (graph, contender) runs in a fresh child process per round, and the rounds alternate the order. Writes
 * docs/benchmarks/data/engine.json (saveBenchReport) with the tables, the plots and the issue's goals.
 *
 *   npx tsx bench/engine.bench.ts            # the suite's default: contexts 32/512/2048, 24 tokens x 3 rounds (~10 min)
 *   npx tsx bench/engine.bench.ts --quick    # smoke: contexts 32/128, 6 tokens, 1 round
 *   options: --rounds N --decode N --contexts 32,512,2048 --graphs fp32,gqa,int4 --run-in worker|main (GlmModel's runIn; default worker)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveBenchReport, startBenchReport, type GoalResult, type PlotSeries } from './support/bench-report';
import { runContender, type ChildResult, type Contender } from './support/engine-contenders';
import { glmEdgeModel, glmEdgeShape, type GlmEdgeVariant } from './support/glm-edge-model';
import { median, summarize } from './support/stats';

const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const numbers = (text: string) => text.split(',').map(Number);
const rounds = Number(option('rounds') ?? (quick ? 1 : 3));
const decodeTokens = Number(option('decode') ?? (quick ? 6 : 24));
const contexts = numbers(option('contexts') ?? (quick ? '32,128' : '32,512,2048'));
const graphs = (option('graphs') ?? 'fp32,gqa,int4').split(',') as GlmEdgeVariant[];
const runIn = option('run-in') as 'worker' | 'main' | undefined;

const contendersOf: Record<GlmEdgeVariant, Contender[]> = {
  fp32: ['floor', 'glm-model', 'transformers.js'],
  gqa: ['floor', 'glm-model'],
  int4: ['floor', 'glm-model', 'transformers.js'],
};
const graphLabel: Record<GlmEdgeVariant, string> = { fp32: 'fp32 Optimum', gqa: 'fp32 GQA shared buffer', int4: 'int4 Optimum' };
const contenderLabel: Record<Contender, string> = { floor: 'floor (bare loop)', 'glm-model': 'GlmModel', 'transformers.js': 'transformers.js' };

interface Pair {
  graph: GlmEdgeVariant;
  contender: Contender;
}

const childAt = process.argv.indexOf('--child');
if (childAt !== -1) {
  const [graph, contender] = process.argv[childAt + 1]!.split(':') as [GlmEdgeVariant, Contender];
  const result = await runContender(graph, contender, option('dir')!, contexts, decodeTokens, runIn);
  console.log(JSON.stringify(result));
  process.exit(0);
}

const started = startBenchReport();
const script = fileURLToPath(import.meta.url);
const directories = {} as Record<GlmEdgeVariant, string>;
for (const graph of graphs) directories[graph] = await glmEdgeModel(graph);
const pairs: Pair[] = graphs.flatMap((graph) => contendersOf[graph].map((contender) => ({ graph, contender })));
const settings = ['--rounds', String(rounds), '--decode', String(decodeTokens), '--contexts', contexts.join(','), ...(runIn === undefined ? [] : ['--run-in', runIn])];

const results = new Map<string, ChildResult[]>();
const failures: string[] = [];
const loads: number[] = [];
const key = (pair: Pair) => `${pair.graph}:${pair.contender}`;
const clock = performance.now();
for (let round = 0; round < rounds; round++) {
  loads.push(os.loadavg()[0]!);
  // Alternate: forward on even rounds, backward on odd ones, shifted by one every two rounds.
  const shift = Math.floor(round / 2) % pairs.length;
  const rotated = [...pairs.slice(shift), ...pairs.slice(0, shift)];
  for (const pair of round % 2 === 0 ? rotated : rotated.reverse()) {
    const child = spawnSync(process.execPath, [...process.execArgv, script, '--child', key(pair), '--dir', directories[pair.graph], ...settings], {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !last.startsWith('{')) {
      failures.push(`round ${round + 1} ${key(pair)}: exit ${child.status}: ${child.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      console.log(failures.at(-1));
      continue;
    }
    const result = JSON.parse(last) as ChildResult;
    results.set(key(pair), [...(results.get(key(pair)) ?? []), result]);
    const brief = result.contexts.map((c) => `@${c.context} ttft ${c.timeToFirstTokenMs.toFixed(0)} ms, ${median(c.intervalsMs).toFixed(1)} ms/token`).join('; ');
    console.log(`round ${round + 1} ${key(pair)} (${((performance.now() - clock) / 1000).toFixed(0)} s): load ${result.loadMs.toFixed(0)} ms; ${brief}`);
  }
}
loads.push(os.loadavg()[0]!);

/** Everything measured for one (graph, contender) at one context, over all rounds. */
interface Cell {
  decode: { median: number; p10: number; n: number };
  prefillTokensPerSecond: number;
  timeToFirstTokenMs: number;
  peakRssMb: number;
  gcMsPerToken: number;
  minTokens: number;
}

function cell(graph: GlmEdgeVariant, contender: Contender, context: number): Cell | undefined {
  const found = (results.get(`${graph}:${contender}`) ?? []).flatMap((r) => r.contexts.filter((c) => c.context === context));
  if (found.length === 0) return undefined;
  return {
    decode: summarize(found.flatMap((c) => c.intervalsMs)),
    prefillTokensPerSecond: median(found.map((c) => (context * 1000) / c.timeToFirstTokenMs)),
    timeToFirstTokenMs: median(found.map((c) => c.timeToFirstTokenMs)),
    peakRssMb: median(found.map((c) => c.peakRssMb)),
    gcMsPerToken: median(found.map((c) => c.gcMsPerToken)),
    minTokens: Math.min(...found.map((c) => c.tokens)),
  };
}

/** Speed of `contender` relative to `reference` on decode: their ms/token over ours (> 1 = faster). */
function speed(ours: Cell | undefined, theirs: Cell | undefined): number {
  return ours && theirs ? theirs.decode.median / ours.decode.median : Number.NaN;
}
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');
const ms = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

const rows: string[] = [];
for (const graph of graphs) {
  for (const contender of contendersOf[graph]) {
    for (const context of contexts) {
      const c = cell(graph, contender, context);
      if (!c) {
        rows.push(`| ${graphLabel[graph]} | ${contenderLabel[contender]} | ${context} | failed | | | | | | |`);
        continue;
      }
      const floor = cell(graph, 'floor', context);
      const peer = cell(graph, 'transformers.js', context);
      rows.push(
        `| ${graphLabel[graph]} | ${contenderLabel[contender]} | ${context} | ${ms(c.decode.median)} (${ms(c.decode.p10)}) | ` +
          `${contender === 'floor' ? '1.00x' : x(speed(c, floor))} | ${peer && contender !== 'transformers.js' ? x(speed(c, peer)) : ''} | ` +
          `${ms(c.prefillTokensPerSecond, 0)} | ${ms(c.timeToFirstTokenMs, 0)} | ${ms(c.peakRssMb, 0)} | ${ms(c.gcMsPerToken, 2)} |`,
      );
    }
  }
}

const small = contexts[0]!;
const large = contexts.at(-1)!;
const growth = (graph: GlmEdgeVariant, contender: Contender) => {
  const a = cell(graph, contender, small);
  const b = cell(graph, contender, large);
  return a && b ? b.decode.median / a.decode.median : Number.NaN;
};
const goals: GoalResult[] = [];
const perContext = (graph: GlmEdgeVariant, ours: Contender, theirs: Contender) =>
  contexts.map((context) => ({ context, ratio: speed(cell(graph, ours, context), cell(graph, theirs, context)), ours: cell(graph, ours, context), theirs: cell(graph, theirs, context) }));
const describeRatios = (list: ReturnType<typeof perContext>) =>
  list.map((r) => `@${r.context} ${x(r.ratio)} (${ms(r.ours?.decode.median ?? Number.NaN)} vs ${ms(r.theirs?.decode.median ?? Number.NaN)} ms/token)`).join(', ');
if (graphs.includes('fp32')) {
  const floor = perContext('fp32', 'glm-model', 'floor');
  goals.push({ goal: 'Optimum fp32 graph: GlmModel decode >= 0.97x the bare loop at every context', measured: describeRatios(floor), met: floor.every((r) => r.ratio >= 0.97) });
  const peer = perContext('fp32', 'glm-model', 'transformers.js');
  goals.push({ goal: 'Optimum fp32 graph: GlmModel decode >= 1.0x transformers.js at every context', measured: describeRatios(peer), met: peer.every((r) => r.ratio >= 1) });
}
if (graphs.includes('gqa')) {
  const ours = growth('gqa', 'glm-model');
  const baseline = graphs.includes('fp32') ? `; Optimum graph through GlmModel ${x(growth('fp32', 'glm-model'))}, its floor ${x(growth('fp32', 'floor'))}` : '';
  goals.push({
    goal: `gqa decode at ${large} context <= 1.15x its cost at ${small} (GlmModel; the Optimum graph's growth is the baseline)`,
    measured: `GlmModel ${x(ours)} (${ms(cell('gqa', 'glm-model', large)?.decode.median ?? Number.NaN)} vs ${ms(cell('gqa', 'glm-model', small)?.decode.median ?? Number.NaN)} ms/token); gqa floor ${x(growth('gqa', 'floor'))}${baseline}`,
    met: ours <= 1.15,
  });
}
if (graphs.includes('int4') && graphs.includes('fp32')) {
  const int4 = contexts.map((context) => ({ context, ratio: speed(cell('int4', 'glm-model', context), cell('fp32', 'glm-model', context)), ours: cell('int4', 'glm-model', context), theirs: cell('fp32', 'glm-model', context) }));
  const floors = contexts.map((context) => `@${context} ${x(speed(cell('int4', 'floor', context), cell('fp32', 'floor', context)))}`).join(', ');
  goals.push({
    goal: 'int4 decode >= 1.8x the fp32 decode (GlmModel int4 vs GlmModel fp32, at every context)',
    measured: `${describeRatios(int4)}; floor vs floor ${floors}`,
    met: int4.every((r) => r.ratio >= 1.8),
  });
}

const series = (value: (c: Cell) => number): PlotSeries[] =>
  pairs.map((pair) => ({
    name: `${graphLabel[pair.graph]}, ${contenderLabel[pair.contender]}`,
    points: contexts.flatMap((context): Array<[number, number]> => {
      const c = cell(pair.graph, pair.contender, context);
      return c ? [[context, Number(value(c).toFixed(2))]] : [];
    }),
  }));

const bytes = (directory: string) => {
  const walk = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => sum + (entry.isDirectory() ? walk(path.join(dir, entry.name)) : statSync(path.join(dir, entry.name)).size), 0);
  return `${(walk(directory) / 2 ** 20).toFixed(0)} MB`;
};
const loadRows = pairs.map((pair) => `| ${graphLabel[pair.graph]} | ${contenderLabel[pair.contender]} | ${ms(median((results.get(key(pair)) ?? []).map((r) => r.loadMs)), 0)} |`);
const shortTokens = pairs.flatMap((pair) => contexts.map((context) => ({ pair, context, c: cell(pair.graph, pair.contender, context) }))).filter((e) => e.c && e.c.minTokens < decodeTokens);
// Same graph, same greedy tokens: a contender that disagrees with the floor runs something else.
const disagreements = pairs.flatMap((pair) =>
  contexts.flatMap((context) => {
    const floorIds = results.get(`${pair.graph}:floor`)?.[0]?.contexts.find((c) => c.context === context)?.ids;
    return (results.get(key(pair)) ?? []).flatMap((result, round) => {
      const ids = result.contexts.find((c) => c.context === context)?.ids;
      const n = Math.min(ids?.length ?? 0, floorIds?.length ?? 0);
      return floorIds && ids && ids.slice(0, n).join() !== floorIds.slice(0, n).join() ? [`${key(pair)} @${context} round ${round + 1}`] : [];
    });
  }),
);
const markdown = [
  'Decode: median (p10) of every token-to-token interval over all rounds; speed ratios are the reference\'s ms/token over the contender\'s (> 1 = faster). ' +
    'Prefill tokens/s = context / time to first token (cold: no prefix cache). Peak RSS of the contender\'s own process up to that context. ' +
    'GC: garbage-collection ms per decode step.',
  '',
  '| graph | contender | context | decode ms/token median (p10) | speed vs floor | speed vs transformers.js | prefill tokens/s | time to first token ms | peak RSS MB | GC ms/token |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  '| graph | contender | load ms (median) |',
  '|---|---|---|',
  ...loadRows,
  '',
  `Load average (1 min) at each round start and at the end: ${loads.map((l) => l.toFixed(2)).join(', ')}.`,
  ...(shortTokens.length > 0 ? ['', `Stopped early (end-of-sequence id): ${shortTokens.map((e) => `${key(e.pair)} @${e.context} (${e.c!.minTokens} tokens)`).join(', ')}.`] : []),
  '',
  disagreements.length === 0
    ? 'Every contender generated the same greedy tokens as the floor of its graph at every context.'
    : `Greedy tokens differing from the floor of the same graph (near-tied logits or a defect): ${disagreements.join(', ')}.`,
  ...(failures.length > 0 ? ['', `Failed runs: ${failures.join('; ')}.`] : []),
].join('\n');

const defaults = !quick && runIn === undefined && rounds === 3 && decodeTokens === 24 && contexts.join(',') === '32,512,2048' && graphs.join(',') === 'fp32,gqa,int4';
const command = `npx tsx bench/engine.bench.ts${defaults ? '' : quick ? ` --quick${runIn === undefined ? '' : ` --run-in ${runIn}`}` : ` ${settings.join(' ')} --graphs ${graphs.join(',')}`}`;
const file = saveBenchReport('engine', started, {
  heading: 'Engine: decode, prefill and memory per graph and contender',
  command,
  model:
    `createTinyGlm GLM-Edge shape (hidden ${glmEdgeShape.hiddenSize}, ${glmEdgeShape.layers} layers, ${glmEdgeShape.heads}/${glmEdgeShape.kvHeads} heads, ` +
    `head_dim ${glmEdgeShape.headDim}, intermediate ${glmEdgeShape.intermediateSize}, Qwen3 151k vocabulary, tied embeddings), random weights, external data; ` +
    graphs.map((graph) => `${graphLabel[graph]} ${bytes(directories[graph])}`).join(', ') +
    ' (int4: MatMulNBits block 32, accuracy level 4, lm_head int4, embedding float32).',
  method:
    `Contenders on the same files: the bare session.run greedy loop (the floor of each graph; on the GQA graph it feeds one shared buffer as past and binds it as present), ` +
    `GlmModel (prefixCache false) and transformers.js generate (not on the GQA graph, which it cannot run). Each (graph, contender) runs in a fresh child process per round ` +
    `(${rounds} rounds, alternating order), loads the model, warms up, then at contexts ${contexts.join(' / ')} prefills a cold prompt and decodes ${decodeTokens} greedy tokens; ` +
    `decode figures pool every per-token interval of all rounds (median, p10), prefill and RSS are medians over rounds.`,
  markdown,
  goals,
  plots: [
    { file: 'engine-decode-vs-context.svg', title: 'Decode cost vs context', xLabel: 'context (tokens)', yLabel: 'decode ms/token (median)', xLog: true, series: series((c) => c.decode.median) },
    { file: 'engine-prefill-vs-context.svg', title: 'Prefill throughput vs context', xLabel: 'context (tokens)', yLabel: 'prefill tokens/s (cold)', xLog: true, series: series((c) => c.prefillTokensPerSecond) },
  ],
  raw: { settings: { rounds, decodeTokens, contexts, graphs, quick }, loads, failures, results: Object.fromEntries(results) },
});
console.log(`\n${markdown}\n\nGoals:\n${goals.map((g) => `- ${g.met ? 'met' : 'NOT met'}: ${g.goal}: ${g.measured}`).join('\n')}`);
console.log(`\n${file} written in ${((performance.now() - clock) / 1000).toFixed(0)} s`);
