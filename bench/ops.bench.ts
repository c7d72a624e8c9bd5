/**
 * Operations benchmark: hot updates and rollbacks of a served model under a steady loopback chat load (4 clients,
 * 4 tokens each, bounded), with the server, the registry and the clients in this process on tiny random-weight
 * GLMs. Reports failed requests, the time from an update call to the first answer by the new version, update and
 * rollback latency (the previous version kept warm), and resident memory with one and with two versions loaded.
 * Writes the "Operations" section of docs/benchmarks.md.
 *
 *   npx tsx bench/ops.bench.ts [--cycles 20] [--clients 4] [--hidden 256] [--layers 4]
 */
import { execSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { createServer } from '../src/server/create-server';
import { ModelRegistry } from '../src/server/model-registry';
import { modelVersionId } from '../src/server/model-version-id';
import { runChatLoad } from '../test/ops/chat-load';
import { writeBenchmarkSection } from './support/benchmark-doc';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const cycles = argument('cycles', 20);
const clients = argument('clients', 4);
const hiddenSize = argument('hidden', 256);
const layers = argument('layers', 4);
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

const root = await mkdtemp(path.join(os.tmpdir(), 'ops-bench-'));
const shape = { hiddenSize, layers, heads: 4, kvHeads: 2 };
const a = await createTinyGlm(path.join(root, 'a'), { ...shape, seed: 1 });
const b = await createTinyGlm(path.join(root, 'b'), { ...shape, seed: 2 });
// Updates alternate b and c: after a rollback the previous version is the one just left, so an update to the other
// one always loads a version (the one before is unloaded once drained).
const c = await createTinyGlm(path.join(root, 'c'), { ...shape, seed: 3 });
const adminKey = 'ops-bench-admin-key';
const versionA = (await modelVersionId(a.directory)).version;
const targets = [b, c];
const targetVersions = [(await modelVersionId(b.directory)).version, (await modelVersionId(c.directory)).version];

const registry = await ModelRegistry.open({ models: { chat: a.directory }, loadOptions: { threads: 1 } });
const server = await createServer({ models: registry, port: 0, adminKey, maxQueued: 64 });
const url = await server.listen();
const admin = async (route: string, body?: unknown) => {
  const started = performance.now();
  const response = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { version: string };
  if (response.status !== 200) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
  return { version: json.version, ms: performance.now() - started };
};

// Memory with one version, then with two (after the first update the previous one stays warm).
await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }) });
const rssOne = process.memoryUsage.rss();

const updates: number[] = [];
const rollbacks: number[] = [];
const firstServed = { update: [] as number[], rollback: [] as number[] };
let rssTwo = 0;
/** Per switch: when it was called and to which version, waiting for the first answer by that version. */
let waiting: { version: string; calledAt: number; kind: 'update' | 'rollback' } | undefined;
/** Until the switched-to version answered (at most 10 s), so every switch gets its figure. */
const served = async () => {
  for (const until = performance.now() + 10_000; waiting !== undefined && performance.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 5));
  waiting = undefined;
};
const load = await runChatLoad({
  url,
  model: 'chat',
  clients,
  maxTokens: 4,
  maxMs: 170_000,
  onAnswer: ({ version }) => {
    if (waiting !== undefined && version === waiting.version) {
      firstServed[waiting.kind].push(performance.now() - waiting.calledAt);
      waiting = undefined;
    }
  },
  during: async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let cycle = 0; cycle < cycles; cycle += 1) {
      // Waiting is armed before the call: the first answer by the new version may come before the call returns.
      waiting = { version: targetVersions[cycle % 2]!, calledAt: performance.now(), kind: 'update' };
      const update = await admin('/admin/models/chat/update', { path: targets[cycle % 2]!.directory });
      updates.push(update.ms);
      if (cycle === 0) rssTwo = process.memoryUsage.rss();
      await served();
      waiting = { version: versionA, calledAt: performance.now(), kind: 'rollback' };
      const rollback = await admin('/admin/models/chat/rollback');
      rollbacks.push(rollback.ms);
      await served();
    }
  },
});
const status = registry.status()[0]!;
await server.close();
await registry.dispose();
await rm(root, { recursive: true, force: true });

const requests = load.ok + load.failed.length;
const rows = [
  ['requests answered (4 clients, 4 tokens)', `${requests} in ${(load.elapsedMs / 1000).toFixed(1)} s`],
  ['failed requests', `${load.failed.length}`],
  ['answers by version', Object.entries(load.byVersion).map(([version, count]) => `${version}: ${count}`).join(', ')],
  ['request latency p50 / p99', `${ms(quantile(load.latenciesMs, 0.5))} / ${ms(quantile(load.latenciesMs, 0.99))}`],
  [`update call (load + warm-up + switch), median / max of ${updates.length}`, `${ms(quantile(updates, 0.5))} / ${ms(Math.max(...updates))}`],
  [`update call -> first answer by the new version, median / max of ${firstServed.update.length}`, `${ms(quantile(firstServed.update, 0.5))} / ${ms(Math.max(...firstServed.update))}`],
  [`rollback call (previous version warm), median / max of ${rollbacks.length}`, `${ms(quantile(rollbacks, 0.5))} / ${ms(Math.max(...rollbacks))}`],
  [`rollback call -> first answer by the previous version, median / max of ${firstServed.rollback.length}`, `${ms(quantile(firstServed.rollback, 0.5))} / ${ms(Math.max(...firstServed.rollback))}`],
  ['process RSS, one version loaded', mb(rssOne)],
  ['process RSS, two versions loaded (after the first update)', mb(rssTwo)],
  ['one version: files / RSS growth at its load', `${mb(status.active.fileBytes)} / ${mb(status.active.rssDeltaBytes ?? 0)}`],
];
const table = ['| measure | value |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
console.log(table);
if (load.failed.length > 0) console.log('failures:', load.failed.slice(0, 5));

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
writeBenchmarkSection(
  'Operations',
  `## Operations

Hot update and rollback under load: \`npx tsx bench/ops.bench.ts --cycles ${cycles} --clients ${clients} --hidden ${hiddenSize} --layers ${layers}\`
(commit ${commit}, ${os.cpus().length} x ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}). One process: the server on a
ModelRegistry, ${clients} loopback clients asking for 4 tokens each without pause, and ${cycles} cycles of an admin update
(load + one warm-up generation + switch) to another tiny GLM (hidden ${hiddenSize}, ${layers} layers, random weights; alternately two versions, so each update loads one)
followed by an admin rollback. Goals: 0 failed requests, rollback <= 1 s.

${table}

The update call includes loading and warming the new version beside the serving one, so its latency is the model's
load time; the first answer by the new version follows the switch by at most one in-flight request. A rollback to
the warm previous version is a pointer swap plus the HTTP round trip, which is why keeping the previous version
loaded costs the memory of a second copy of the weights (\`previousGraceMs\` unloads it after a grace period; a
rollback then pays a load again). The CI test \`test/ops/admin-api.test.ts\` runs the same load, smaller (3 cycles),
and asserts 0 failed requests with both versions in the \`x-autoglm-model-version\` headers.
`,
);
