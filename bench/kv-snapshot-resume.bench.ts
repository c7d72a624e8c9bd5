/**
 * KV snapshots beside the journal: the resumed agent step of a workflow interrupted after its first model turn,
 * warm (the step's snapshot is there) against cold (the same interrupted run with the snapshot deleted), each on a
 * freshly loaded model. The interruption cancels the run when the step's second generation starts (the journal and
 * the snapshot are then what a kill -9 leaves: test/workflows/kv-snapshot-resume.test.ts does it with a real
 * SIGKILL). Rounds alternate warm and cold; the table reports medians. Writes the "KV snapshots" section of
 * docs/benchmarks.md.
 *
 *   npx tsx bench/kv-snapshot-resume.bench.ts [--rounds 3]
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GlmModel } from '../src/models/glm-model';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { Workflow } from '../src/workflows/workflow';
import type { StepKvUsage } from '../src/workflows/workflow-types';
import { interceptSecondGeneration, kvSnapshotNote, kvSnapshotTools, kvSnapshotWorkflow } from '../test/workflows/fixtures/kv-snapshot-workflow';
import { writeBenchmarkSection } from './support/benchmark-doc';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt === -1 ? 3 : Number(process.argv[roundsAt + 1]);
const shape = { family: 'glm4', seed: 5, hiddenSize: 512, layers: 4, heads: 8, kvHeads: 2, intermediateSize: 1024, maxPositionEmbeddings: 2048 } as const;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const root = mkdtempSync(path.join(os.tmpdir(), 'bench-kv-snapshot-'));
const modelDir = path.join(root, 'model');
await createTinyGlm(modelDir, shape);
const checkpointDir = path.join(root, 'runs');
const tools = kvSnapshotTools();

/** Runs the workflow until the agent step's second generation starts, then cancels it (journal + snapshot stay). */
async function interruptedRun(runId: string): Promise<void> {
  const model = await GlmModel.load(modelDir);
  const controller = new AbortController();
  const interrupting = interceptSecondGeneration(model, (stream) => {
    controller.abort();
    return stream();
  });
  const run = await kvSnapshotWorkflow.run({ tools, model: interrupting, inputs: { note: kvSnapshotNote }, checkpointDir, runId, signal: controller.signal });
  await model.dispose();
  if (run.status !== 'cancelled') throw new Error(`the interrupted run ended ${run.status}`);
}

interface Sample {
  kv: StepKvUsage;
  resumeMs: number;
  outputs: unknown;
  snapshotBytes: number;
}

async function resumed(runId: string, warm: boolean): Promise<Sample> {
  const file = path.join(checkpointDir, `${runId}.kv`, 'summary.kvs');
  if (!existsSync(file)) throw new Error(`no snapshot at ${file}`);
  const snapshotBytes = statSync(file).size;
  if (!warm) rmSync(file);
  const model = await GlmModel.load(modelDir);
  const started = performance.now();
  const run = await Workflow.resume(runId, { checkpointDir, tools, model });
  const resumeMs = performance.now() - started;
  await model.dispose();
  if (run.status !== 'succeeded') throw new Error(`the resumed run ended ${run.status}`);
  return { kv: run.steps.summary.kv!, resumeMs, outputs: run.outputs, snapshotBytes };
}

const samples: Record<'warm' | 'cold', Sample[]> = { warm: [], cold: [] };
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 === 0 ? (['warm', 'cold'] as const) : (['cold', 'warm'] as const)) {
    const runId = `${mode}-${round}`;
    await interruptedRun(runId);
    samples[mode].push(await resumed(runId, mode === 'warm'));
  }
}
rmSync(root, { recursive: true, force: true });
const same = samples.warm.every((sample) => JSON.stringify(sample.outputs) === JSON.stringify(samples.cold[0]!.outputs));

const row = (mode: 'warm' | 'cold') => {
  const list = samples[mode];
  const kv = list[0]!.kv;
  return `| ${mode} | ${kv.snapshotTokens} | ${kv.prefillTokens} | ${kv.cachedTokens} | ${median(list.map((s) => s.resumeMs)).toFixed(0)} |`;
};
const ratio = median(samples.warm.map((s) => s.resumeMs)) / median(samples.cold.map((s) => s.resumeMs));
const section = `## KV snapshots: resuming an agent step

\`npx tsx bench/kv-snapshot-resume.bench.ts --rounds ${rounds}\`: a workflow whose agent step (plan, then act: up to
3 generations of at most 24 tokens, temperature 0) is interrupted when the step's second generation starts, then
resumed on a freshly loaded model; warm with the step's KV snapshot (\`<runId>.kv/summary.kvs\`), cold with it
deleted. Tiny GLM-4 of ${shape.layers} layers, hidden ${shape.hiddenSize}, ${shape.kvHeads} KV heads, fp32, worker thread;
${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), shared with other jobs. Median of ${rounds} rounds,
alternating. Token counts are the resumed step's first generation (\`steps.summary.kv\` of the run result).

| resume | snapshot tokens | prefill tokens | cached tokens | resume wall ms |
|---|---|---|---|---|
${row('warm')}
${row('cold')}

Warm / cold resume wall time: ${ratio.toFixed(2)}x. Outputs of warm and cold resumes identical: ${same ? 'yes' : 'NO'}.
Snapshot file: ${(samples.warm[0]!.snapshotBytes / 1024 / 1024).toFixed(2)} MiB (the KV of its positions, 2 x layers x
KV heads x head size x 4 bytes each, plus 4 bytes of id each and a header). The wall time covers the whole resumed
step (every generation, the tool call, the journal, the snapshot saved after each turn), loading the snapshot
included; the saving is in the first generation's prefill.
`;
console.log(section);
writeBenchmarkSection('KV snapshots: resuming an agent step', section);
