/**
 * Issue 7's six-step agent workload on the GLM-Edge-shaped fp32 model (151k vocabulary, ~1 GB): an AutoAgent with
 * two cheap deterministic tools makes five tool calls, then the forced final answer (maxSteps 6). Contenders, in one
 * process, alternating over rounds:
 *   - AutoAgent with the prefix cache (each step prefills only its new tokens),
 *   - AutoAgent without it (prefixCache false: every step prefills its whole prompt),
 *   - transformers.js `generate` on the same model directory, fed the exact token ids the agent sent at each step
 *     (recorded from the cached run) and asked for the same number of new tokens, greedy: what an agent built on
 *     transformers.js pays for the same six prompts.
 * Figures: total time per contender, time to first token of each step; goals: total >= 3x faster than
 * transformers.js, TTFT of steps 2-6 <= 0.2x the cold prefill of the same prompt (the uncached run's same step).
 *
 *   npx tsx bench/agent-workload.bench.ts            # default: 3 rounds (about 5 minutes)
 *   npx tsx bench/agent-workload.bench.ts --quick    # smoke: 1 round, short tool results (about a minute)
 *   options: --rounds N --seed N (first sampling seed tried for a run of exactly 5 calls + the answer) --temperature T
 */
import os from 'node:os';
import { z } from 'zod';
import { AutoAgent } from '../src/agent/auto-agent';
import { GlmModel } from '../src/models/glm-model';
import type { GenerateOptions } from '../src/models/language-model';
import { defineTool } from '../src/tools/define-tool';
import { saveBenchReport, startBenchReport, type GoalResult } from './support/bench-report';
import { glmEdgeModel, glmEdgeShape } from './support/glm-edge-model';
import { summarize } from './support/stats';
import { RecordingModel, type RecordedGeneration } from '../test/support/recording-model';

const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const rounds = Number(option('rounds') ?? (quick ? 1 : 3));
const firstSeed = Number(option('seed') ?? 0);
const steps = 6;
const maxNewTokens = 48;
// A random-weight model's choices are sharply peaked: at temperature 1 (and 3) it repeats the same call until the agent's
// loop guard stops the run. Temperature 30 gives five different calls (the grammar keeps them valid and short).
const temperature = Number(option('temperature') ?? 30);

type Contender = 'cached' | 'uncached' | 'transformers.js';
const contenders: Contender[] = ['cached', 'uncached', 'transformers.js'];
const label: Record<Contender, string> = {
  cached: 'AutoAgent, prefix cache',
  uncached: 'AutoAgent, no prefix cache',
  'transformers.js': 'transformers.js generate',
};

// Two cheap deterministic tools with enum / bounded-integer arguments, so every call the grammar lets a random model
// write is complete within maxNewTokens. The results are sized like small real tool output (about 100 tokens for the
// default run, a line for --quick), so each step's new turn is what a real agent would append.
const cities = ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Bern', 'Riga', 'Doha', 'Nice'] as const;
const hotelNames = ['Harbour', 'Central', 'Garden', 'Station', 'Old Town', 'Riverside'];
const tools = [
  defineTool({
    name: 'travel.hotels',
    description: 'List hotels in a city for a month, with nightly prices in euros and ratings.',
    input: z.object({ city: z.enum(cities), month: z.number().int().min(1).max(12) }),
    execute: ({ city, month }) => {
      const base = 60 + cities.indexOf(city) * 17 + month * 3;
      const count = quick ? 1 : 3;
      return {
        city,
        month,
        hotels: Array.from({ length: count }, (_, index) => ({
          name: `${hotelNames[(index + month) % hotelNames.length]} ${city}`,
          pricePerNight: base + index * 23,
          rating: 3 + ((index + month) % 3),
          ...(quick ? {} : { notes: `Breakfast ${index % 2 === 0 ? 'included' : 'extra'}, ${index + 2} km from the centre.` }),
        })),
      };
    },
  }),
  defineTool({
    name: 'travel.weather',
    description: 'Typical weather of a city in a month: temperatures in Celsius and rainy days.',
    input: z.object({ city: z.enum(cities), month: z.number().int().min(1).max(12) }),
    execute: ({ city, month }) => {
      const high = 8 + ((cities.indexOf(city) * 5 + month * 2) % 22);
      return {
        city,
        month,
        highC: high,
        lowC: high - 7,
        rainDays: (month * 3 + cities.indexOf(city)) % 14,
        ...(quick
          ? {}
          : {
              summary: `In month ${month} ${city} usually sees highs around ${high} C and lows near ${high - 7} C; mornings are often misty and afternoons clear, with wind from the ${month % 2 === 0 ? 'west' : 'north'}.`,
            }),
      };
    },
  }),
];
const Answer = z.object({ city: z.enum(cities), budget: z.number().int().min(0).max(9999) });
// The default run's system prompt carries an agency's working rules (about 350 tokens, ~950 with the task and the
// tools block), the share of a real agent prompt that every step re-sends; tool results are about 100 tokens.
const instructions = quick
  ? undefined
  : [
      'You plan short city trips for a travel agency. Compare the candidate cities on hotel prices and typical weather',
      'before recommending one. Use the hotel tool for prices and the weather tool for the climate of the travel month;',
      'prefer cities with mild weather and few rainy days, and keep the total budget (hotel nights plus a daily allowance',
      'of 40 euros per adult) under what the client gives. Never invent prices or weather: use only what the tools return.',
      'When two cities are close, prefer the one with the better-rated hotel.',
      '',
      'Agency rules:',
      '1. Quote prices in euros, rounded to whole euros, for the whole stay and all travellers.',
      '2. A hotel rated below 3 is never recommended, whatever its price.',
      '3. A month with more than 10 rainy days counts as rainy; recommend a rainy city only when every candidate is rainy.',
      '4. Daily highs above 30 C or below 5 C count as uncomfortable; weigh them like a rainy month.',
      '5. Families with children prefer hotels within 3 km of the centre; note the distance when it is larger.',
      '6. Free cancellation matters to clients who book more than a month ahead; mention it when the hotel offers it.',
      '7. Do not recommend a city the client did not list, even if the tools return it.',
      '8. When the budget cannot be met in any listed city, recommend the cheapest one and give its real total.',
      '9. Keep the answer short: the city and the total budget, nothing else.',
      '10. Check both tools for every city you recommend; a recommendation without weather data is incomplete.',
      '',
      'Pricing reminders: the nightly price is per room for two adults; a third adult adds 30 percent; children under 12',
      'stay free; the daily allowance covers meals and local transport; city taxes are included in the hotel price.',
      'Seasonal notes: months 6 to 8 are high season in the northern cities, months 12 to 2 in the southern ones; prices in',
      'high season are usually 20 to 40 percent above the rest of the year, so compare like with like.',
    ].join('\n');
const input = 'Client: two adults, four nights in month 5, budget 1200 euros. Candidates: Oslo, Lima, Riga, Nice.';

interface StepFigures {
  promptIds?: number[];
  promptTokens: number;
  completionTokens: number;
  prefillTokens: number;
  cachedTokens: number;
  timeToFirstTokenMs: number;
  totalMs: number;
}

interface RunFigures {
  totalMs: number;
  steps: StepFigures[];
}

/** The figures of one recorded generation. */
function stepFigures({ promptIds, result }: RecordedGeneration): StepFigures {
  return { ...(promptIds ? { promptIds } : {}), ...result.usage, timeToFirstTokenMs: result.timings.timeToFirstTokenMs, totalMs: result.timings.totalMs };
}

/**
 * The workload's agent gathers before it answers: its tool steps must call (the random-weight model would otherwise
 * answer at once); the forced answer step keeps the agent's toolChoice 'none'.
 */
const requireCalls = (options: GenerateOptions): GenerateOptions =>
  options.tools?.length && options.toolChoice === undefined ? { ...options, toolChoice: 'required' } : options;

async function runAgent(model: RecordingModel, prefixCache: boolean, seed: number, recordIds: boolean, maxSteps = steps) {
  // Start cold: a different one-token sequence replaces whatever the KV cache held from the previous run.
  await model.inner.generate('Reset.', { maxNewTokens: 1, prefixCache: false });
  model.generations.length = 0;
  model.recordPromptIds = recordIds;
  const agent = new AutoAgent({
    task: 'Recommend the best city for the trip and its total budget.',
    ...(instructions ? { instructions } : {}),
    model,
    tools,
    schema: Answer,
    maxSteps,
    // Room for all six turns: the default (5) would evict the oldest turns at step 6 and re-prefill from there.
    context: { maxTurns: 2 * steps },
    plan: false,
    generation: { maxNewTokens, temperature, prefixCache },
  });
  const start = performance.now();
  const result = await agent.run(input, { seed });
  const totalMs = performance.now() - start;
  return { result, figures: { totalMs, steps: model.generations.map(stepFigures) } satisfies RunFigures };
}

/** Five executed tool calls, then the answer: the workload's shape. */
function isSixStepRun(result: Awaited<ReturnType<typeof runAgent>>['result']): boolean {
  return (
    result.steps.length === steps &&
    result.steps.slice(0, steps - 1).every((step) => step.kind === 'tool' && step.toolCall?.args !== undefined && step.result?.ok === true) &&
    result.steps[steps - 1]!.kind === 'answer'
  );
}

type TransformersGenerate = (ids: number[], newTokens: number) => Promise<{ ttft: number; total: number; generated: number }>;

async function loadTransformers(directory: string): Promise<{ generate: TransformersGenerate; dispose(): Promise<void> }> {
  const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const model = await AutoModelForCausalLM.from_pretrained(directory, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  const generate: TransformersGenerate = async (ids, newTokens) => {
    let puts = 0;
    let first = 0;
    const streamer = {
      put() {
        // The first put carries the prompt, the second the first generated token.
        if (++puts === 2) first = performance.now();
      },
      end() {},
    };
    const start = performance.now();
    const output = (await model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      max_new_tokens: newTokens,
      min_new_tokens: newTokens,
      do_sample: false,
      streamer: streamer as never,
    })) as { dims: number[] };
    const total = performance.now() - start;
    return { ttft: first - start, total, generated: output.dims[1]! - ids.length };
  };
  return {
    generate,
    dispose: async () => {
      await model.dispose();
    },
  };
}

async function main(): Promise<void> {
  const started = startBenchReport();
  const directory = await glmEdgeModel('fp32');
  let loadStart = performance.now();
  const glm = await GlmModel.load(directory);
  const glmLoadMs = performance.now() - loadStart;
  const model = new RecordingModel(glm, { adjustOptions: requireCalls });
  loadStart = performance.now();
  const transformers = await loadTransformers(directory);
  const transformersLoadMs = performance.now() - loadStart;
  console.log(`loaded: GlmModel ${(glmLoadMs / 1000).toFixed(1)} s, transformers.js ${(transformersLoadMs / 1000).toFixed(1)} s`);

  // Warm-up and workload: the first sampling seed whose run is exactly five executed calls and the answer (the model
  // has random weights; runs with the same seed are identical, with or without the prefix cache).
  // Compiles the grammars (calls only, answer only) outside the measured runs.
  await runAgent(model, true, firstSeed, false, 2);
  let seed = firstSeed;
  let workload: Awaited<ReturnType<typeof runAgent>> | undefined;
  for (; seed < firstSeed + 40; seed++) {
    const run = await runAgent(model, true, seed, true);
    console.log(`seed ${seed}: ${run.result.steps.map((step) => (step.toolCall ? `${step.toolCall.name}${JSON.stringify(step.toolCall.args)}` : step.kind)).join(', ')}`);
    if (isSixStepRun(run.result)) {
      workload = run;
      break;
    }
  }
  if (workload === undefined) throw new Error(`No seed in ${firstSeed}..${firstSeed + 39} gave five tool calls and the answer.`);
  const recorded = workload.figures.steps;
  await transformers.generate(recorded[0]!.promptIds!.slice(0, 8), 2);

  const results: Record<Contender, RunFigures[]> = { cached: [], uncached: [], 'transformers.js': [] };
  const loads: number[] = [];
  loads.push(os.loadavg()[0]!);
  for (let round = 0; round < rounds; round++) {
    if (round > 0) loads.push(os.loadavg()[0]!);
    const order = contenders.map((_, index) => contenders[(index + round) % contenders.length]!);
    for (const contender of order) {
      let figures: RunFigures;
      if (round === 0 && contender === 'cached') {
        // The run that found the workload was this measurement: cold start, grammars compiled, prefix cache on.
        figures = { totalMs: workload.figures.totalMs, steps: recorded.map(({ promptIds: _ids, ...rest }) => rest) };
      } else if (contender === 'transformers.js') {
        const start = performance.now();
        const stepFigures: StepFigures[] = [];
        for (const step of recorded) {
          const run = await transformers.generate(step.promptIds!, step.completionTokens);
          if (run.generated !== step.completionTokens) throw new Error(`transformers.js generated ${run.generated} tokens, asked for ${step.completionTokens}.`);
          stepFigures.push({ ...step, promptIds: undefined, prefillTokens: step.promptTokens, cachedTokens: 0, timeToFirstTokenMs: run.ttft, totalMs: run.total });
        }
        figures = { totalMs: performance.now() - start, steps: stepFigures };
      } else {
        const run = await runAgent(model, contender === 'cached', seed, round === 0);
        if (round === 0) {
          // The same six prompts as the recorded run, token for token, or the comparison is void.
          const same = run.figures.steps.length === steps && run.figures.steps.every((step, index) => sameIds(step.promptIds!, recorded[index]!.promptIds!));
          if (!same) throw new Error(`The ${label[contender]} run sent other prompts than the recorded run (seed ${seed}).`);
        }
        figures = { totalMs: run.figures.totalMs, steps: run.figures.steps.map(({ promptIds: _ids, ...rest }) => rest) };
      }
      results[contender].push(figures);
      console.log(
        `round ${round + 1} ${label[contender]}: total ${(figures.totalMs / 1000).toFixed(2)} s, ttft ${figures.steps.map((step) => step.timeToFirstTokenMs.toFixed(0)).join(' / ')} ms`,
      );
    }
  }
  loads.push(os.loadavg()[0]!);
  await transformers.dispose();
  await glm.dispose();

  report(started, { seed, recorded, results, loads, glmLoadMs, transformersLoadMs });
}

function report(
  started: ReturnType<typeof startBenchReport>,
  data: { seed: number; recorded: StepFigures[]; results: Record<Contender, RunFigures[]>; loads: number[]; glmLoadMs: number; transformersLoadMs: number },
): void {
  const { recorded, results } = data;
  const total = (contender: Contender) => summarize(results[contender].map((run) => run.totalMs));
  const ttft = (contender: Contender, step: number) => summarize(results[contender].map((run) => run.steps[step]!.timeToFirstTokenMs));
  const cachedTotal = total('cached');
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  const totals = contenders.map((contender) => {
    const figures = total(contender);
    return `| ${label[contender]} | ${seconds(figures.median)} (${seconds(figures.p10)}) | ${(figures.median / cachedTotal.median).toFixed(2)}x |`;
  });
  const stepRows = recorded.map((step, index) => {
    const cached = recorded[index]!;
    const [c, u, t] = contenders.map((contender) => ttft(contender, index));
    return (
      `| ${index + 1} | ${step.promptTokens} | ${cached.prefillTokens} | ${step.completionTokens} | ${c!.median.toFixed(0)} (${c!.p10.toFixed(0)}) | ` +
      `${u!.median.toFixed(0)} (${u!.p10.toFixed(0)}) | ${t!.median.toFixed(0)} (${t!.p10.toFixed(0)}) | ${(c!.median / u!.median).toFixed(3)}x |`
    );
  });
  const markdown = [
    '| contender | total s, median (p10) | vs prefix cache |',
    '|---|---|---|',
    ...totals,
    '',
    '| step | prompt tokens | prefilled with prefix cache | new tokens | TTFT ms prefix cache | TTFT ms no prefix cache (cold prefill) | TTFT ms transformers.js | prefix cache / cold |',
    '|---|---|---|---|---|---|---|---|',
    ...stepRows,
    '',
    `Steps 1-5 are tool calls, step 6 the forced final answer (maxSteps ${steps}); TTFT is median (p10) over ${rounds} round(s).`,
  ].join('\n');

  const speedup = total('transformers.js').median / cachedTotal.median;
  const ratios = recorded.slice(1).map((_, index) => ttft('cached', index + 1).median / ttft('uncached', index + 1).median);
  const worst = Math.max(...ratios);
  const goals: GoalResult[] = [
    {
      goal: 'Six-step agent workload: total time >= 3x faster than the same prompts through transformers.js generate',
      measured: `${speedup.toFixed(2)}x (${seconds(cachedTotal.median)} s vs ${seconds(total('transformers.js').median)} s; without the prefix cache ${seconds(total('uncached').median)} s)`,
      met: speedup >= 3,
    },
    {
      goal: 'Six-step agent workload: time to first token of steps 2-6 <= 0.2x of a cold prefill',
      measured: `${ratios.map((ratio) => ratio.toFixed(3)).join(' / ')}x for steps 2-6 (worst ${worst.toFixed(3)}x)`,
      met: worst <= 0.2,
    },
  ];
  const command = `npx tsx bench/agent-workload.bench.ts${quick ? ' --quick' : ''}${option('rounds') ? ` --rounds ${rounds}` : ''}`;
  const file = saveBenchReport('agent-workload', started, {
    heading: 'Six-step agent workload: prefix cache vs full prefill vs transformers.js',
    command,
    model:
      `createTinyGlm GLM-Edge shape (hidden ${glmEdgeShape.hiddenSize}, ${glmEdgeShape.layers} layers, ${glmEdgeShape.heads}/${glmEdgeShape.kvHeads} heads, ` +
      `head_dim ${glmEdgeShape.headDim}, intermediate ${glmEdgeShape.intermediateSize}, Qwen3 151k vocabulary, tied embeddings), random weights, fp32 Optimum layout, external data (about 1.0 GB).`,
    method:
      `AutoAgent (plan off, grammar-constrained, its tool steps with toolChoice 'required', temperature ${temperature}, seed ${data.seed}, maxSteps ${steps}, maxNewTokens ${maxNewTokens}) with two deterministic tools makes five calls and the forced answer; ` +
      `the same run with prefixCache false; and transformers.js generate on the same directory fed the exact prompt ids the agent sent at each step (recorded, identical in both agent runs) ` +
      `with the same number of new tokens, greedy (min_new_tokens = max_new_tokens). One process, ${rounds} round(s) rotating the contender order; the KV cache is reset before each agent run (step 1 is cold for every contender). ` +
      `Load average (1 min) per round and at the end: ${data.loads.map((load) => load.toFixed(2)).join(', ')}.`,
    markdown,
    goals,
    plots: [
      {
        file: 'agent-workload-ttft.svg',
        title: 'Time to first token per agent step',
        xLabel: 'agent step',
        yLabel: 'time to first token (ms)',
        series: contenders.map((contender) => ({
          name: label[contender],
          points: recorded.map((_, index) => [index + 1, ttft(contender, index).median] as [number, number]),
        })),
      },
    ],
    raw: {
      seed: data.seed,
      loadMs: { glmModel: data.glmLoadMs, transformersJs: data.transformersLoadMs },
      prompts: recorded.map((step) => ({ promptTokens: step.promptTokens, newTokens: step.completionTokens })),
      results,
    },
  });
  console.log(`\n${markdown}\n`);
  for (const goal of goals) console.log(`${goal.met ? 'met' : 'NOT met'}: ${goal.goal}: ${goal.measured}`);
  console.log(`written: ${file}`);
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

await main();
