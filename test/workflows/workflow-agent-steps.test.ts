/**
 * Agent steps as a library feature: `Workflow.run({ model })` runs them on an AutoAgent, their fields are checked
 * when the workflow loads, every spec problem comes in one error, and a reference to a missing field is an error.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolRegistry, Workflow, WorkflowSpecError } from '../../src/index';
import { ScriptedModel } from '../support/scripted-model';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-agent-steps-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const echo = defineTool({ name: 'echo', description: 'echo', input: z.object({ value: z.unknown() }), execute: ({ value }) => value });

describe('agent steps in the library', () => {
  it('Workflow.run({ model }) runs agent steps on an AutoAgent, without a hand-written runner', async () => {
    const model = new ScriptedModel([], { fallback: (call) => `\nsummary of ${call.prompt.includes('Revenue 10') ? 'the figures' : 'nothing'}` });
    const workflow = Workflow.fromYaml(`
name: summarize
inputs: { note: { type: string } }
steps:
  - { id: read, uses: echo, with: { value: { text: "\${{ inputs.note }}" } } }
  - id: summary
    needs: read
    agent: { task: Summarize the text in one line, plan: false, maxSteps: 1, temperature: 0 }
    with: { text: "\${{ steps.read.output.text }}" }
outputs: { summary: "\${{ steps.summary.output }}" }
`);
    const run = await workflow.run({ tools: new ToolRegistry([echo]), model, inputs: { note: 'Revenue 10' } });
    expect(run.steps.summary.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual({ summary: 'summary of the figures' });
    expect(model.calls.length).toBe(1);
  });

  it('an agent step without model or runner is refused before any step runs', async () => {
    const workflow = Workflow.define({ name: 'w', steps: [{ id: 'a', agent: { task: 'Say hi' } }] });
    await expect(workflow.run({})).rejects.toThrow(/step "a", field "agent": .*got neither a `model`.*nor an `agents` runner/);
  });

  it('the agent step is strict at load: `maxStpes: 3` is a spec error before any step runs', async () => {
    const marker = path.join(dir, 'written.txt');
    const write = defineTool({
      name: 'write',
      description: 'a side effect',
      input: z.object({}),
      execute: async () => {
        await writeFile(marker, 'ran');
        return 'ok';
      },
    });
    const tools = new ToolRegistry([write]);
    const load = () =>
      Workflow.fromYaml(
        `
name: typo
steps:
  - { id: side-effect, uses: write }
  - id: summary
    needs: side-effect
    agent: { task: Summarize, maxStpes: 3, temperature: hot }
`,
        { tools },
      );
    expect(load).toThrow(WorkflowSpecError);
    expect(load).toThrow(/step "summary", field "agent.maxStpes" \(line 7\): unknown field "maxStpes"/);
    expect(load).toThrow(/step "summary", field "agent.temperature" \(line 7\)/);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it('reports every spec problem at once: fields, graph, references and tools', () => {
    let error: WorkflowSpecError | undefined;
    try {
      Workflow.fromYaml(
        `
name: many
inputs: { report: { type: string } }
steps:
  - { id: a, uses: echo, retyr: { max: 2 } }
  - { id: b, uses: nope.tool, needs: [zz] }
  - { id: c, uses: echo, needs: [a], with: { value: "\${{ inputs.reprot }}" } }
  - { id: d, agent: { task: T, maxStpes: 2 } }
`,
        { tools: new ToolRegistry([echo]) },
      );
    } catch (caught) {
      error = caught as WorkflowSpecError;
    }
    expect(error).toBeInstanceOf(WorkflowSpecError);
    const fields = (error!.details.issues as Array<{ step?: string; field: string }>).map((issue) => `${issue.step}:${issue.field}`);
    expect(fields).toEqual(expect.arrayContaining(['a:retyr', 'b:needs[0]', 'c:with.value', 'd:agent.maxStpes', 'b:uses']));
    expect(error!.message).toMatch(/reference "inputs.reprot" names an undeclared input \(did you mean "inputs.report"\?\)/);
  });

  it('a reference to an undeclared input is a spec error even when the workflow declares no inputs', () => {
    expect(() => Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 'echo', with: { value: '${{ inputs.file }}' } }] })).toThrow(
      /reference "inputs.file" names an undeclared input; the workflow declares no inputs/,
    );
  });

  it('a reference to a field missing from a step output fails that step naming the reference (no retry)', async () => {
    const workflow = Workflow.define({
      name: 'dynamic',
      steps: [
        { id: 'a', uses: 'echo', with: { value: { total: 5 } } },
        { id: 'b', uses: 'echo', needs: 'a', with: { value: '${{ steps.a.output.totl }}' }, retry: { max: 3, initialMs: 1 } },
      ],
    });
    const run = await workflow.run({ tools: new ToolRegistry([echo]) });
    expect(run.status).toBe('failed');
    expect(run.steps.b).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'WORKFLOW_RUN', message: expect.stringContaining('Reference "steps.a.output.totl" does not exist: steps.a.output has no field "totl" (it is fields: total)') },
    });
  });

  it('a missing field in a condition fails the step instead of reading as false', async () => {
    const workflow = Workflow.define({
      name: 'cond',
      steps: [
        { id: 'a', uses: 'echo', with: { value: { n: 1 } } },
        { id: 'b', uses: 'echo', needs: 'a', if: '${{ steps.a.output.count > 0 }}', with: { value: 1 } },
      ],
    });
    const run = await workflow.run({ tools: new ToolRegistry([echo]) });
    expect(run.steps.b).toMatchObject({ status: 'failed', error: { code: 'WORKFLOW_RUN' } });
  });
});
