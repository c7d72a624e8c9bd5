/**
 * Per-token overhead (issue 15): GlmModel's greedy decode against the bare `session.run` loop (the floor) on the
 * same files, in ONE process, run after run in alternating order, so both see the same machine at the same moment.
 * The floor runs in a worker thread of its own (bench/support/floor-worker.ts), as GlmModel's session does by
 * default: each on a heap that holds nothing else (on the main thread the floor would pay for collections of the
 * heap that holds GlmModel's tokenizer). Graphs: the small model of the issue's first measurement (4 layers, hidden
 * 1024, 512-token vocabulary, fp32) and the suite's GLM-Edge-shaped fp32 Optimum, fp32 GQA shared-buffer and int4
 * graphs (bench/support/glm-edge-model.ts). At each context: `--pairs` pairs of one floor run and one GlmModel run
 * of `--decode` tokens; a pair's ratio is floor ms/token over GlmModel ms/token (> 1: GlmModel is faster); the
 * figure is the median of the pairs' ratios, which cancels the drift of a shared machine between pairs.
 *
 *   npx tsx bench/per-token-overhead.bench.ts                  # 4 graphs x contexts 32/512/2048, 8 pairs of 32 tokens
 *   npx tsx bench/per-token-overhead.bench.ts --quick          # 2 pairs of 12 tokens, contexts 32/512
 *   options: --graphs small,fp32,gqa,int4 --contexts 32,512,2048 --pairs N --decode N --run-in worker|main
 *            --prepacking on|off (GlmModel's; default: its own default, off for float weights)
 *            --prefill-chunk N (GlmModel's prefillChunkSize; default: its own, 256)
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GlmModel, type GlmModelLoadOptions } from '../src/models/glm-model';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { workerEntryFile } from '../src/worker-entry-file';
import { saveBenchReport, startBenchReport, type GoalResult } from './support/bench-report';
import type { BareGreedyLoopResult } from './support/bare-greedy-loop';
import { promptIds } from './support/engine-contenders';
import type { FloorRequest } from './support/floor-worker';
import { glmEdgeGraphFile, glmEdgeModel, glmEdgeShape, type GlmEdgeVariant } from './support/glm-edge-model';
import { median, quantile } from './support/stats';

type Graph = GlmEdgeVariant | 'small';
const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const graphs = (option('graphs') ?? 'small,fp32,gqa,int4').split(',') as Graph[];
const contexts = (option('contexts') ?? (quick ? '32,512' : '32,512,2048')).split(',').map(Number);
const pairs = Number(option('pairs') ?? (quick ? 2 : 8));
const decodeTokens = Number(option('decode') ?? (quick ? 12 : 32));
const runIn = (option('run-in') ?? 'worker') as 'worker' | 'main';
const prepacking = option('prepacking');
const prefillChunk = option('prefill-chunk');
const goalRatio = 0.97;

/** The issue's small model, written once into the temp folder. */
async function smallModel(): Promise<string> {
  const directory = path.join(os.tmpdir(), 'autoglm-bench-small-4x1024-v512');
  if (!existsSync(path.join(directory, 'onnx', 'model.onnx'))) {
    await createTinyGlm(directory, { layers: 4, hiddenSize: 1024, heads: 16, kvHeads: 4, vocab: 512, maxPositionEmbeddings: 4096, seed: 1 });
  }
  return directory;
}

const floorWorker = new Worker(
  // workerEntryFile looks beside the module file it is given: bench/support/.
  workerEntryFile(fileURLToPath(new URL('./support/floor-worker.ts', import.meta.url)), 'floor-worker', (message) => new Error(message)),
);
function floorRun(request: FloorRequest): Promise<BareGreedyLoopResult> {
  return new Promise((resolve, reject) => {
    floorWorker.once('message', (reply: BareGreedyLoopResult | { error: string }) => ('error' in reply ? reject(new Error(reply.error)) : resolve(reply)));
    floorWorker.postMessage(request);
  });
}

interface Cell {
  graph: Graph;
  context: number;
  floorMsPerToken: number[];
  glmMsPerToken: number[];
  /** floor ms/token / GlmModel ms/token, one per pair. */
  ratios: number[];
  sameTokens: boolean;
}

const started = startBenchReport();
const cells: Cell[] = [];
for (const graph of graphs) {
  const directory = graph === 'small' ? await smallModel() : await glmEdgeModel(graph);
  const file = graph === 'small' ? path.join(directory, 'onnx', 'model.onnx') : glmEdgeGraphFile(directory, graph);
  const options: GlmModelLoadOptions = { runIn, ...(graph === 'int4' ? { dtype: 'q4' as const } : {}), ...(prepacking === undefined ? {} : { prepacking: prepacking === 'on' }),
    ...(prefillChunk === undefined ? {} : { prefillChunkSize: Number(prefillChunk) }),
  };
  const model = await GlmModel.load(directory, options);
  const { layers, kvHeads, headDim, vocabSize } = model.info;
  try {
    for (const context of contexts) {
      // Ordinary ids of either vocabulary (the small one has 512 entries, its specials at the end).
      const ids = graph === 'small' ? Array.from({ length: context }, (_, i) => 10 + ((i * 7) % 400)) : promptIds(context);
      const sharedBufferLength = graph === 'gqa' ? Math.ceil((context + decodeTokens) / 256) * 256 : undefined;
      const floor = async (): Promise<{ msPerToken: number; ids: number[] }> => {
        const run = await floorRun({ file, shape: { layers, kvHeads, headDim }, ids, steps: decodeTokens, ...(sharedBufferLength === undefined ? {} : { sharedBufferLength }) });
        return { msPerToken: run.decodeMs / (run.tokens - 1), ids: run.ids };
      };
      const glm = async (): Promise<{ msPerToken: number; ids: number[] }> => {
        const generated: number[] = [];
        let first = 0;
        for await (const event of model.stream(ids, { maxNewTokens: decodeTokens, temperature: 0, prefixCache: false })) {
          if (event.type !== 'token') continue;
          if (generated.length === 0) first = performance.now();
          generated.push(event.id);
        }
        return { msPerToken: (performance.now() - first) / (generated.length - 1), ids: generated };
      };
      await floor(); // warm-up: first-run allocations of this context
      await glm();
      const cell: Cell = { graph, context, floorMsPerToken: [], glmMsPerToken: [], ratios: [], sameTokens: true };
      for (let pair = 0; pair < pairs; pair++) {
        const [a, b] = pair % 2 === 0 ? [await floor(), await glm()] : [await glm(), await floor()].reverse();
        cell.floorMsPerToken.push(a!.msPerToken);
        cell.glmMsPerToken.push(b!.msPerToken);
        cell.ratios.push(a!.msPerToken / b!.msPerToken);
        if (a!.ids.join() !== b!.ids.join()) cell.sameTokens = false;
      }
      cells.push(cell);
      console.log(
        `${graph} @${context}: floor ${median(cell.floorMsPerToken).toFixed(2)} ms/token, GlmModel ${median(cell.glmMsPerToken).toFixed(2)} ms/token, ` +
          `ratio ${median(cell.ratios).toFixed(3)}x (pairs ${cell.ratios.map((r) => r.toFixed(2)).join(' ')}), vocab ${vocabSize}, load ${os.loadavg()[0]!.toFixed(1)}`,
      );
    }
  } finally {
    await model.dispose();
  }
}
floorWorker.postMessage('release');
await new Promise((resolve) => floorWorker.once('message', resolve));
await floorWorker.terminate();

const label: Record<Graph, string> = {
  small: 'small fp32 (4 layers, hidden 1024, vocab 512)',
  fp32: 'GLM-Edge-shaped fp32 Optimum',
  gqa: 'GLM-Edge-shaped fp32 GQA shared buffer',
  int4: 'GLM-Edge-shaped int4 Optimum',
};
const rows = cells.map((cell) => {
  const q = (p: number) => quantile(cell.ratios, p).toFixed(3);
  return `| ${label[cell.graph]} | ${cell.context} | ${median(cell.floorMsPerToken).toFixed(2)} | ${median(cell.glmMsPerToken).toFixed(2)} | **${median(cell.ratios).toFixed(3)}x** | ${q(0.25)}–${q(0.75)} | ${cell.sameTokens ? 'yes' : 'NO'} |`;
});
const markdown = [
  `GlmModel (runIn '${runIn}') against the floor, ${pairs} alternating pairs of ${decodeTokens} greedy tokens per cell; ratio > 1: GlmModel is faster.`,
  '',
  '| graph | context | floor ms/token (median) | GlmModel ms/token (median) | floor / GlmModel, median of pairs | interquartile range of pairs | same tokens |',
  '|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
const worst = cells.reduce((low, cell) => (median(cell.ratios) < median(low.ratios) ? cell : low), cells[0]!);
const goals: GoalResult[] = [
  {
    goal: `GlmModel decode >= ${goalRatio}x the bare session.run loop on every graph and context (median of alternating pairs, one process)`,
    measured: cells.map((cell) => `${cell.graph}@${cell.context} ${median(cell.ratios).toFixed(2)}x`).join(', ') + `; lowest ${worst.graph}@${worst.context}`,
    met: cells.every((cell) => median(cell.ratios) >= goalRatio),
  },
];
console.log(`\n${markdown}\n\n${goals.map((goal) => `${goal.met ? 'met' : 'NOT met'}: ${goal.goal}: ${goal.measured}`).join('\n')}`);
if (cells.some((cell) => !cell.sameTokens)) {
  console.error('GlmModel and the floor generated different tokens: the comparison is void.');
  process.exitCode = 1;
}
const written = saveBenchReport('per-token-overhead', started, {
  heading: 'Per-token overhead: GlmModel against the bare session.run loop',
  command: `npx tsx bench/per-token-overhead.bench.ts${quick ? ' --quick' : ''}`,
  model: `${graphs.map((graph) => label[graph]).join('; ')} (GLM-Edge shape: hidden ${glmEdgeShape.hiddenSize}, ${glmEdgeShape.layers} layers, 151k vocabulary)`,
  method:
    'One process: the floor (bare session.run greedy loop, its own worker thread) and GlmModel (default options, session in its worker thread) ' +
    'alternate run by run on the same graph file; each pair gives floor ms/token over GlmModel ms/token; the median of the pairs is reported.',
  markdown,
  goals,
  plots: [],
  raw: cells,
});
console.log(`${written} written`);
