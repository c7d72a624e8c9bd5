/**
 * Server benchmark: `POST /v1/chat/completions` under autocannon at 1, 4 and 16 connections on a tiny GLM
 * (throughput, p50 / p99 latency, errors), a deliberate overload past the queue (429s), and the HTTP layer's
 * overhead: the same 64-token greedy generation through the server against a direct `generate` in the same
 * process, alternated, medians. Loopback only; every phase is bounded in time. Writes the "Server" section of
 * docs/benchmarks.md.
 *
 *   npx tsx bench/server.bench.ts [--duration 8] [--rounds 15]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { GlmModel } from '../src/models/glm-model';
import type { ChatMessage } from '../src/models/language-model';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { createServer } from '../src/server/create-server';
import { writeBenchmarkSection } from './support/benchmark-doc';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const duration = argument('duration', 8);
const rounds = argument('rounds', 15);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const tokens = 64;
// Measured: greedy decoding on this prompt writes 368 tokens before an end token, so 64 is always reached.
const messages: ChatMessage[] = [{ role: 'user', content: 'Go on' }];
const body = JSON.stringify({ model: 'tiny', messages, max_tokens: tokens, temperature: 0 });

const root = mkdtempSync(path.join(os.tmpdir(), 'server-bench-'));
try {
  const info = await createTinyGlm(path.join(root, 'model'), { seed: 1 });
  const model = await GlmModel.load(info.directory, { threads: 1 });
  const load = () => os.loadavg()[0]!.toFixed(1);
  const loads = [load()];

  // 1. Overhead: direct generate vs the same request over HTTP (non-streamed), alternated.
  const server = await createServer({ models: { tiny: model }, port: 0, maxQueued: 16 });
  const url = await server.listen();
  const direct: number[] = [];
  const http: number[] = [];
  const timeDirect = async () => {
    const start = performance.now();
    const result = await model.generate(messages, { maxNewTokens: tokens, temperature: 0 });
    if (result.tokenIds.length !== tokens) throw new Error(`direct generate wrote ${result.tokenIds.length} tokens, expected ${tokens}`);
    return performance.now() - start;
  };
  const timeHttp = async () => {
    const start = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await response.json()) as { usage: { completion_tokens: number } };
    if (json.usage.completion_tokens !== tokens) throw new Error(`HTTP wrote ${json.usage.completion_tokens} tokens`);
    return performance.now() - start;
  };
  for (let round = 0; round < rounds + 2; round++) {
    // Which one goes first alternates, so neither always pays for what the other left behind (GC, caches).
    const [directMs, httpMs] = round % 2 === 0 ? [await timeDirect(), await timeHttp()] : [...[await timeHttp(), await timeDirect()].reverse()];
    if (round >= 2) {
      direct.push(directMs!);
      http.push(httpMs!);
    }
  }
  loads.push(load());

  // 2. Throughput and latency under autocannon at 1 / 4 / 16 connections.
  const rows: string[] = [];
  const run = async (connections: number, label: string) => {
    const result = await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration, timeout: 60 });
    loads.push(load());
    const status429 = result.statusCodeStats['429']?.count ?? 0;
    rows.push(
      `| ${label} | ${connections} | ${result['2xx']} | ${(result['2xx'] / duration).toFixed(1)} | ${((result['2xx'] * tokens) / duration).toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${result.errors + result.timeouts} | ${status429} | ${result.non2xx - status429} |`,
    );
  };
  for (const connections of [1, 4, 16]) await run(connections, 'queue 16');
  await server.close();

  // 3. Deliberate overload: 16 connections against a queue of 2.
  const small = await createServer({ models: { tiny: model }, port: 0, maxQueued: 2 });
  const smallUrl = await small.listen();
  const overload = await autocannon({ url: `${smallUrl}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 16, duration, timeout: 60 });
  loads.push(load());
  const overload429 = overload.statusCodeStats['429']?.count ?? 0;
  rows.push(
    `| queue 2 (overload) | 16 | ${overload['2xx']} | ${(overload['2xx'] / duration).toFixed(1)} | ${((overload['2xx'] * tokens) / duration).toFixed(0)} | ${overload.latency.p50} | ${overload.latency.p99} | ${overload.errors + overload.timeouts} | ${overload429} | ${overload.non2xx - overload429} |`,
  );
  await small.close();
  await model.dispose();

  const directMedian = median(direct);
  const httpMedian = median(http);
  const overheadPercent = ((httpMedian - directMedian) / directMedian) * 100;
  const uptime = execSync('uptime').toString().trim();
  const section = `## Server

Command: \`npx tsx bench/server.bench.ts --duration ${duration} --rounds ${rounds}\` (Node ${process.version}, ${os.cpus().length} cores).
\`uptime\` at the end: \`${uptime}\`; 1-min load at the start and after each phase: ${loads.join(', ')}. Other jobs shared
the cores, so absolute figures are noisy; ratios come from the same run.

Model: \`createTinyGlm\` defaults (random weights, fp32, ${model.info.layers} layers, vocabulary ${model.info.vocabSize}), one ONNX Runtime
thread, in GlmModel's worker thread. Every request: the same chat prompt, greedy, exactly ${tokens} new tokens,
non-streamed, server on 127.0.0.1.

**HTTP overhead** (goal <= 5%): the same request as a direct \`model.generate\` and over HTTP with \`fetch\`,
alternated (ABBA), medians of ${rounds} rounds after 2 warm-up rounds: direct ${directMedian.toFixed(1)} ms, HTTP ${httpMedian.toFixed(1)} ms,
overhead **${overheadPercent.toFixed(1)}%** (${(httpMedian - directMedian).toFixed(1)} ms per request: JSON parsing and validation, chat
mapping, response building, loopback TCP).

**Load** (autocannon, ${duration} s per row, 0 errors expected; 429s only where the queue is deliberately too small).
The model runs one generation at a time, so on an idle machine more connections raise latency (queue wait) rather
than throughput; on a shared, overloaded host the rows' throughput also moves with the CPU share this process gets,
so compare rows of one run only, and rerun on an idle machine for absolute figures:

| server | connections | 2xx | requests/s | tokens/s | p50 ms | p99 ms | errors + timeouts | 429 | other non-2xx |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
  console.log(section);
  writeBenchmarkSection('Server', section);
} finally {
  rmSync(root, { recursive: true, force: true });
}
