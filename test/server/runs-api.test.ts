/**
 * The runs API in process, on a tiny GLM: an agent run streams its workflow and agent events over SSE; a workflow
 * run can be cancelled and a cancelled run stays cancelled across a restart; file inputs stay inside the roots;
 * bad requests are 400/404 naming the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflowAgentRunner } from '../../src/workflows/workflow-agent-runner';
import { createServer, type AutoglmServer } from '../../src/server/create-server';
import type { RunsOptions } from '../../src/server/runs/runs-options';
import { readFileTool } from '../../src/tools/file-tools';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { Workflow } from '../../src/workflows/workflow';
import { useTinyModel } from '../agent/onnx-helpers';

const tiny = useTinyModel('server-runs');
let root = '';
let tools: ToolRegistry;
let workflows: Workflow[];
const servers: AutoglmServer[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'server-runs-'));
  await writeFile(path.join(root, 'note.txt'), 'inside the root');
  tools = new ToolRegistry([readFileTool], { roots: [root] });
  await tools.use(path.join(import.meta.dirname, 'fixtures', 'slow-plugin.mjs'));
  workflows = [
    await Workflow.load(path.join(import.meta.dirname, 'fixtures', 'workflows', 'slow-pair.yaml'), { tools }),
    Workflow.define({ name: 'read-file', inputs: { file: { type: 'string' } }, steps: [{ id: 'read', uses: 'files.read', with: { path: '${{ inputs.file }}' } }] }, { tools }),
  ];
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<string> {
  const runs: RunsOptions = { dataDir, workflows, tools, agents: (model, onEvent) => createWorkflowAgentRunner({ model, files: tools.files, tools, onEvent }) };
  const server = await createServer({ models: { tiny: { model: tiny.model, version: 'v7' } }, port: 0, runs, warmup: false });
  servers.push(server);
  return server.listen();
}

const post = (url: string, body: unknown) => fetch(`${url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
type RunView = { status: string; steps: Record<string, { status: string; error?: { code: string } }>; model: unknown; kind: string };
const view = async (url: string, id: string) => (await (await fetch(`${url}/v1/runs/${id}`)).json()) as RunView;

async function settled(url: string, id: string): Promise<RunView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await view(url, id);
    if (run.status !== 'running') return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('runs API', () => {
  it('runs an agent and streams its workflow and agent events over SSE', async () => {
    const url = await start(path.join(root, 'agent-data'));
    const created = await post(url, { agent: { task: 'Greet the user', maxSteps: 1, maxNewTokens: 8, plan: false }, inputs: { name: 'Ada ${{ inputs.name }}' } });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const events = await (await fetch(`${url}/v1/runs/${id}/events`)).text();
    const types = [...events.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);
    expect(types[0]).toBe('run-start');
    expect(types).toContain('agent-event');
    expect(types.at(-1)).toBe('run-end');
    const run = await settled(url, id);
    expect(run).toMatchObject({ kind: 'agent', model: { name: 'tiny', version: 'v7' } });
    expect(['succeeded', 'failed']).toContain(run.status);
  });

  it('cancels a run, and a restarted server leaves it cancelled', async () => {
    const dataDir = path.join(root, 'cancel-data');
    const url = await start(dataDir);
    const { id } = (await (await post(url, { workflow: 'slow-pair', inputs: { label: 'x' } })).json()) as { id: string };
    const cancel = await fetch(`${url}/v1/runs/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    expect((await settled(url, id)).status).toBe('cancelled');
    expect((await fetch(`${url}/v1/runs/${id}/cancel`, { method: 'POST' })).status).toBe(409);
    await servers.pop()!.close();
    const restarted = await start(dataDir);
    expect((await view(restarted, id)).status).toBe('cancelled');
  });

  it('keeps file inputs inside the configured roots', async () => {
    const url = await start(path.join(root, 'files-data'));
    const inside = (await (await post(url, { workflow: 'read-file', inputs: { file: path.join(root, 'note.txt') } })).json()) as { id: string };
    expect((await settled(url, inside.id)).status).toBe('succeeded');
    const outside = (await (await post(url, { workflow: 'read-file', inputs: { file: '/etc/passwd' } })).json()) as { id: string };
    const run = await settled(url, outside.id);
    expect(run.status).toBe('failed');
    expect(run.steps.read!.error!.code).toBe('PATH_OUTSIDE_SANDBOX');
  });

  it('answers bad run requests with 400 or 404 naming the field', async () => {
    const url = await start(path.join(root, 'bad-data'));
    const cases: [unknown, number, string][] = [
      [{ workflow: 'slow-pair', agent: { task: 'x' } }, 400, 'agent'],
      [{ workflow: 'nope' }, 404, 'workflow'],
      [{ workflow: 'slow-pair', inputs: { label: 'x', extra: 1 } }, 400, 'inputs.extra'],
      [{ workflow: 'slow-pair', inputs: { label: 3 } }, 400, ''],
      [{ workflow: 'slow-pair', priority: 1 }, 400, 'priority'],
      [{ agent: { task: 'x' }, inputs: { 'bad name': 1 } }, 400, 'inputs.bad name'],
    ];
    for (const [body, status, param] of cases) {
      const response = await post(url, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      const error = ((await response.json()) as { error: { param: string | null } }).error;
      if (param !== '') expect(error.param).toBe(param);
    }
    expect((await fetch(`${url}/v1/runs/run-zz-00000000`)).status).toBe(404);
  });
});
