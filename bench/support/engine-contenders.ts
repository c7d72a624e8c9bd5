/**
 * The contenders of the engine benchmark, each run inside its own child process: the bare `session.run` loop (the
 * floor of its graph), GlmModel, and transformers.js `generate`. A child loads one model once, warms up, then for
 * each context runs one cold prompt of that length and decodes a fixed number of greedy tokens, timing every token.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { bareGreedyLoop } from './bare-greedy-loop';
import { glmEdgeGraphFile, glmEdgeShape, type GlmEdgeVariant } from './glm-edge-model';
import { peakRssMb } from './stats';

export type Contender = 'floor' | 'glm-model' | 'transformers.js';

export interface ContextMeasurement {
  context: number;
  /** From the call to the first generated token (a cold prefill of `context` tokens plus one argmax). */
  timeToFirstTokenMs: number;
  /** Tokens generated (the requested number unless the model met an end-of-sequence id). */
  tokens: number;
  /** The generated ids: the same graph must give every contender the same greedy tokens. */
  ids: number[];
  /** The time of every decode step after the first token: consecutive token-to-token intervals. */
  intervalsMs: number[];
  /** Garbage-collection time between the first and the last token, per decode step. */
  gcMsPerToken: number;
  /** Peak RSS of the child so far (contexts run in increasing order, so this is the peak up to this context). */
  peakRssMb: number;
}

export interface ChildResult {
  graph: GlmEdgeVariant;
  contender: Contender;
  loadMs: number;
  contexts: ContextMeasurement[];
}

/** Distinct ordinary ids of the Qwen3 vocabulary (below its special tokens); every prompt is a prefix of the longest. */
export function promptIds(length: number): number[] {
  return Array.from({ length }, (_, i) => 1000 + ((i * 7919) % 100000));
}

/** One generation: its start, its tokens and the time each token was known. */
interface Timed {
  start: number;
  ids: number[];
  tokenTimes: number[];
}

type Generate = (ids: number[], tokens: number) => Promise<Timed>;

/** Loads `contender` on `graph`, then measures each context in turn. */
/** `runIn`: where GlmModel runs its session (GlmModelLoadOptions.runIn; the other contenders ignore it). */
export async function runContender(
  graph: GlmEdgeVariant,
  contender: Contender,
  directory: string,
  contexts: number[],
  decodeTokens: number,
  runIn?: 'worker' | 'main',
): Promise<ChildResult> {
  const gcEntries: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcEntries.push({ start: entry.startTime, duration: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });

  const loadStart = performance.now();
  const { generate, dispose } = await load(graph, contender, directory, runIn);
  const loadMs = performance.now() - loadStart;
  await generate(promptIds(8), 4); // warm-up: first-run allocations and JIT out of the way

  const measured: ContextMeasurement[] = [];
  for (const context of contexts) {
    const run = await generate(promptIds(context), decodeTokens);
    await new Promise((resolve) => setImmediate(resolve)); // deliver pending gc entries
    const first = run.tokenTimes[0] ?? run.start;
    const last = run.tokenTimes.at(-1) ?? first;
    const gcMs = gcEntries.filter((entry) => entry.start >= first && entry.start <= last).reduce((sum, entry) => sum + entry.duration, 0);
    const intervalsMs = run.tokenTimes.slice(1).map((time, i) => time - run.tokenTimes[i]!);
    measured.push({
      context,
      timeToFirstTokenMs: first - run.start,
      tokens: run.tokenTimes.length,
      ids: run.ids,
      intervalsMs,
      gcMsPerToken: intervalsMs.length > 0 ? gcMs / intervalsMs.length : Number.NaN,
      peakRssMb: peakRssMb(),
    });
  }
  await dispose();
  observer.disconnect();
  return { graph, contender, loadMs, contexts: measured };
}

async function load(
  graph: GlmEdgeVariant,
  contender: Contender,
  directory: string,
  runIn: 'worker' | 'main' | undefined,
): Promise<{ generate: Generate; dispose: () => Promise<void> }> {
  if (contender === 'floor') {
    const ort = await import('onnxruntime-node');
    // The session options GlmModel uses (OnnxBackend's defaults).
    const session = await ort.InferenceSession.create(glmEdgeGraphFile(directory, graph), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    return {
      generate: async (ids, tokens) => {
        // The GQA graph shares one buffer between past and present, sized as GlmModel's SharedKvCache sizes it
        // for this sequence (steps of 256 positions): ONNX Runtime Node copies the whole buffer out every step.
        const sharedBufferLength = graph === 'gqa' ? Math.ceil((ids.length + tokens) / 256) * 256 : undefined;
        const start = performance.now();
        const run = await bareGreedyLoop(session, glmEdgeShape, ids, tokens, sharedBufferLength === undefined ? {} : { sharedBufferLength });
        return { start, ids: run.ids, tokenTimes: run.tokenTimes };
      },
      dispose: () => session.release(),
    };
  }
  if (contender === 'glm-model') {
    const { GlmModel } = await import('../../src/models/glm-model');
    const model = await GlmModel.load(directory, {
      executionProvider: 'cpu',
      ...(graph === 'int4' ? { dtype: 'q4' as const } : {}),
      ...(runIn === undefined ? {} : { runIn }),
    });
    return {
      generate: async (ids, tokens) => {
        const start = performance.now();
        const tokenTimes: number[] = [];
        const generated: number[] = [];
        for await (const event of model.stream(ids, { maxNewTokens: tokens, temperature: 0, prefixCache: false })) {
          if (event.type === 'token') {
            tokenTimes.push(performance.now());
            generated.push(event.id);
          }
        }
        return { start, ids: generated, tokenTimes };
      },
      dispose: () => model.dispose(),
    };
  }
  if (graph === 'gqa') throw new Error('transformers.js runs the Optimum layout only, not the GroupQueryAttention graph');
  const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const model = await AutoModelForCausalLM.from_pretrained(directory, { local_files_only: true, dtype: graph === 'int4' ? 'q4' : 'fp32', device: 'cpu' });
  return {
    generate: async (ids, tokens) => {
      const tokenTimes: number[] = [];
      const generated: number[] = [];
      let puts = 0;
      // The first put carries the prompt, every later one the generated token ([[id]] for one sequence).
      const streamer = {
        put(value: bigint[][]) {
          if (puts++ === 0) return;
          tokenTimes.push(performance.now());
          generated.push(Number(value[0]![0]));
        },
        end() {},
      };
      const start = performance.now();
      await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        max_new_tokens: tokens,
        do_sample: false,
        streamer,
      } as never);
      return { start, ids: generated, tokenTimes };
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}
