/**
 * Many requests on one GlmModel (issue 15) and how fast an abort lets go (issue 18 item 7).
 *
 * - Concurrency (continuous batching): N greedy requests of 32 prompt + `--decode` new tokens started together
 *   against the same N one after another, for N = 1, 2, 4, 8, on the GLM-Edge-shaped models of the performance suite
 *   (bench/support/glm-edge-model.ts: hidden 1024, 8 layers, 151k vocabulary; int4 and fp32 Optimum graphs, and the
 *   GQA shared-buffer graph with `--models gqa`) and on the small model of the first measurement (4 layers, hidden
 *   1024, 512-token vocabulary: `small`). Aggregate tokens/s, the ratio concurrent / serial, p50 / p95 request
 *   latency, rows per step. Then KV bytes per slot and RSS after 8 concurrent requests on 8 slots against 1 slot.
 * - Abort: an 8,100-token cold prefill aborted at 100 ms (prefillChunkSize 256 and 8192): time from the abort to the
 *   request settling, against the time of the whole prefill; 10 queued requests aborted at 50 ms behind a running one.
 *
 *   npx tsx bench/batching.bench.ts [--decode 16] [--rounds 1] [--models int4,fp32,small] [--abort-only] [--no-abort]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { GlmModel } from '../src/models/glm-model';
import { kvBytesPerToken } from '../src/models/batching/sequence-defaults';
import { glmEdgeModel, type GlmEdgeVariant } from './support/glm-edge-model';
import { quantile } from './support/stats';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const decodeTokens = argument('decode', 16);
const rounds = argument('rounds', 1);
const abortOnly = process.argv.includes('--abort-only');
const noAbort = process.argv.includes('--no-abort');
const modelsAt = process.argv.indexOf('--models');
const models = modelsAt === -1 ? ['int4', 'fp32', 'small'] : process.argv[modelsAt + 1]!.split(',');
const load = () => os.loadavg()[0].toFixed(1);
const rssMb = () => (process.memoryUsage().rss / 1e6).toFixed(0);

const root = await mkdtemp(path.join(os.tmpdir(), 'batching-bench-'));
try {
  const directory = path.join(root, 'model');
  const tiny = await createTinyGlm(directory, { layers: 4, hiddenSize: 1024, heads: 16, kvHeads: 4, vocab: 512, maxPositionEmbeddings: 8_192, seed: 1 });
  const small = path.join(root, 'small');
  await createTinyGlm(small, { layers: 4, hiddenSize: 256, heads: 4, kvHeads: 2, vocab: 512, maxPositionEmbeddings: 8_192, seed: 1 });
  const special = new Set(Object.values(tiny.specialTokens));
  const plain = Array.from({ length: tiny.tokenizerSize }, (_, id) => id).filter((id) => !special.has(id));
  const prompt = (length: number, offset: number) => Array.from({ length }, (_, index) => plain[(index * 7 + offset) % plain.length]!);

  console.log(`${os.cpus().length} cores, load ${load()}; ${decodeTokens} new tokens per request, median of ${rounds} rounds`);
  if (!abortOnly) {
    for (const name of models) {
      const dir = name === 'small' ? directory : await glmEdgeModel(name as GlmEdgeVariant);
      const label = name === 'small' ? `small (4 layers, hidden 1024, vocab 512, ${(tiny.onnxBytes / 1e6).toFixed(0)} MB fp32)` : `GLM-Edge shape ${name}`;
      const model = await GlmModel.load(dir, { sequences: 8 });
      try {
        await model.generate(prompt(32, 0), { maxNewTokens: 4, temperature: 0 }); // warm-up
        console.log(`
${label}: N requests of 32 prompt + ${decodeTokens} new tokens (greedy)`);
        console.log('N | serial tokens/s | concurrent tokens/s | concurrent / serial | p50 latency ms | p95 latency ms | rows per step | load');
        for (const n of [1, 2, 4, 8]) {
          const ratios: number[] = [];
          let serialRate = 0;
          let concurrentRate = 0;
          let latencies: number[] = [];
          let rowsPerStep = 0;
          for (let round = 0; round < rounds; round++) {
            const requests = Array.from({ length: n }, (_, index) => prompt(32, 100 * round + index + 1));
            // ignoreEos-like: a random model may end early; count the tokens each request did produce.
            const options = { maxNewTokens: decodeTokens, temperature: 0, prefixCache: false } as const;
            let started = performance.now();
            let serialTokens = 0;
            for (const ids of requests) serialTokens += (await model.generate(ids, options)).tokenIds.length;
            const serialMs = performance.now() - started;
            const before = model.batchStats;
            started = performance.now();
            const ended = await Promise.all(
              requests.map(async (ids) => {
                const result = await model.generate(ids, options);
                return { tokens: result.tokenIds.length, ms: performance.now() - started };
              }),
            );
            latencies = ended.map((end) => end.ms);
            const concurrentTokens = ended.reduce((sum, end) => sum + end.tokens, 0);
            const concurrentMs = performance.now() - started;
            const after = model.batchStats;
            rowsPerStep = (after.rows - before.rows) / Math.max(1, after.steps - before.steps);
            serialRate = (serialTokens * 1000) / serialMs;
            concurrentRate = (concurrentTokens * 1000) / concurrentMs;
            ratios.push(concurrentRate / serialRate);
          }
          console.log(
            `${n} | ${serialRate.toFixed(1)} | ${concurrentRate.toFixed(1)} | ${quantile(ratios, 0.5).toFixed(2)}x | ${quantile(latencies, 0.5).toFixed(0)} | ${quantile(latencies, 0.95).toFixed(0)} | ${rowsPerStep.toFixed(1)} | ${load()}`,
          );
        }
        const info = model.info;
        // Every graph here keeps a float32 KV cache (int4 quantizes the weights only).
        const perToken = kvBytesPerToken(info, 'float32');
        console.log(`KV bytes per token ${perToken}; per slot at ${info.contextLength} context: ${((perToken * info.contextLength) / 1e6).toFixed(1)} MB`);
      } finally {
        await model.dispose();
      }
      // RSS with 8 slots against 1: a fresh load each, 8 concurrent requests (1 slot: they queue).
      for (const sequences of [1, 8]) {
        const fresh = await GlmModel.load(dir, { sequences });
        try {
          const before = rssMb();
          await Promise.all(Array.from({ length: 8 }, (_, index) => fresh.generate(prompt(32, index + 7), { maxNewTokens: decodeTokens, temperature: 0 })));
          console.log(`sequences ${sequences}: RSS ${before} MB after load, ${rssMb()} MB after 8 requests (this process)`);
        } finally {
          await fresh.dispose();
        }
      }
    }
  }
  if (noAbort) process.exit(0);

  console.log('\nabort: 8,100-token cold prefill (hidden 256), aborted at 100 ms');
  console.log('prefillChunkSize | whole prefill ms | abort -> settled ms | prompt tokens run before settling (of the first 1,024) | load');
  const long = prompt(8_100, 3);
  for (const prefillChunkSize of [256, 8_192]) {
    const chunked = await GlmModel.load(small, { prefillChunkSize });
    try {
      // The whole prefill once, in 256-token chunks (one 8,100-token run would take minutes on a loaded machine).
      let started = performance.now();
      if (prefillChunkSize === 256) await chunked.generate(long, { maxNewTokens: 1, prefixCache: false });
      const wholeMs = performance.now() - started;
      await chunked.generate(prompt(2, 9), { maxNewTokens: 1, prefixCache: false });
      const controller = new AbortController();
      let abortedAt = 0;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort();
      }, 100);
      started = performance.now();
      await chunked.generate(long, { maxNewTokens: 4, signal: controller.signal });
      const settleMs = performance.now() - abortedAt;
      const ran = (await chunked.generate(long.slice(0, 1_025), { maxNewTokens: 1 })).usage.cachedTokens;
      console.log(`${prefillChunkSize} | ${prefillChunkSize === 256 ? wholeMs.toFixed(0) : '-'} | ${settleMs.toFixed(0)} | ${ran} | ${load()}`);
    } finally {
      await chunked.dispose();
    }
  }

  const queue = await GlmModel.load(small, { sequences: 1 });
  try {
    const running = queue.generate(long.slice(0, 2_048), { maxNewTokens: 4, prefixCache: false });
    const controller = new AbortController();
    const queued = Array.from({ length: 10 }, (_, index) => queue.generate(prompt(64, index), { maxNewTokens: 8, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAt = performance.now();
    controller.abort();
    await Promise.all(queued);
    const settledMs = performance.now() - abortedAt;
    await running;
    const runningMs = performance.now() - abortedAt;
    console.log(`\nqueue: 10 requests behind a 2,048-token prefill, aborted at 50 ms: all settled ${settledMs.toFixed(1)} ms after the abort; the running request ended ${runningMs.toFixed(0)} ms after it (load ${load()})`);
  } finally {
    await queue.dispose();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
