/**
 * The contract, through the bin in child processes: help, create-tiny + inspect --json, exit code 2 with
 * the typed message and no stack for usage and spec errors, and the cached tiny model when --model is absent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), 'autoglm-cli-'));
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('autoglm (child process)', () => {
  it('--help exits 0 and lists every command', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['run <workflow.yaml>', 'agent --task', 'model create-tiny', 'model inspect', 'pull <hub-repo-id>']) expect(run.stdout).toContain(command);
    expect(run.stdout).toContain('only network command');
  }, 60_000);

  it('model create-tiny DIR then model inspect DIR --json prints JSON with family, shapes, files and graph I/O', async () => {
    const directory = path.join(temp, 'tiny');
    const created = await runCli(['model', 'create-tiny', directory, '--family', 'glm4', '--layers', '1', '--seed', '3']);
    expect(created.code).toBe(0);
    const inspected = await runCli(['model', 'inspect', directory, '--json']);
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.stdout);
    expect(report).toMatchObject({ family: 'glm4', layers: 1, hiddenSize: 64, heads: 4, kvHeads: 2, dtype: 'fp32', dtypes: ['fp32'] });
    expect(report.files.map((file: { path: string }) => file.path)).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', 'model.onnx')]),
    );
    expect(report.graph.inputs.map((tensor: { name: string }) => tensor.name)).toEqual(expect.arrayContaining(['input_ids', 'attention_mask', 'past_key_values.0.key']));
    expect(report.graph.outputs[0]).toMatchObject({ name: 'logits', type: 'float32' });
  }, 90_000);

  it('exits 2 with the typed message and no stack for an unknown option', async () => {
    const run = await runCli(['model', 'inspect', temp, '--frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^autoglm: USAGE: model inspect: Unknown option '--frobnicate'/);
    noStack(run.stderr);
  }, 60_000);

  it('exits 2 with WORKFLOW_SPEC naming the step and field for a bad workflow', async () => {
    const file = path.join(temp, 'bad.yaml');
    await writeFile(file, 'name: bad\nsteps:\n  - id: a\n    uses: pdf.extract\n    needs: [nowhere]\n');
    const run = await runCli(['run', file, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/autoglm: WORKFLOW_SPEC: .*step "a", field "needs\[0\]".*unknown step "nowhere"/s);
    expect(run.stdout).toBe('');
    noStack(run.stderr);
  }, 60_000);

  it('without --model, run builds the tiny model into the cache once, says so, and reuses it', async () => {
    const file = path.join(temp, 'hello.yaml');
    await writeFile(file, ['name: hello', 'steps:', '  - id: greet', '    agent: { task: "Say hello", maxSteps: 1, maxNewTokens: 4, plan: false, temperature: 0 }', ''].join('\n'));
    const env = { AUTOGLM_CACHE_DIR: path.join(temp, 'cache') };
    const first = await runCli(['run', file, '--json'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/no --model given: built the tiny random-weight GLM model in .*cache.*nonsense prose/s);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ status: 'succeeded', steps: { greet: { status: 'succeeded' } } });
    expect(typeof result.outputs.greet).toBe('string');
    const second = await runCli(['run', file, '--json'], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/no --model given: using the tiny random-weight GLM model/);
  }, 120_000);
});
