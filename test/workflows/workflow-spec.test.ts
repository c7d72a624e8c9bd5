import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WorkflowSpecError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { Workflow } from '../../src/workflows/workflow';
import { FakeToolCaller } from '../support/fake-tool-caller';

const tools = new FakeToolCaller([
  defineTool({ name: 'pdf.extract', description: 'x', input: z.object({ path: z.string() }), execute: ({ path }) => ({ text: path }) }),
]);

function specError(load: () => unknown): WorkflowSpecError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowSpecError);
    expect((error as WorkflowSpecError).code).toBe('WORKFLOW_SPEC');
    return error as WorkflowSpecError;
  }
  throw new Error('expected a WorkflowSpecError');
}

describe('loading a valid spec', () => {
  it('parses YAML with defaults applied', () => {
    const wf = Workflow.fromYaml(`
name: report
version: 2
inputs:
  report: { type: string }
steps:
  - id: extract
    uses: pdf.extract
    with: { path: "\${{ inputs.report }}" }
    retry: { max: 2 }
  - id: summary
    needs: extract
    agent: { task: summarize }
    with: { text: "\${{ steps.extract.output.text }}" }
    if: \${{ steps.extract.output.text != '' }}
outputs:
  summary: \${{ steps.summary.output }}
`, { tools });
    expect(wf.name).toBe('report');
    expect(wf.spec.steps[0]).toMatchObject({ needs: [], onFailure: 'fail', retry: { max: 2, backoff: 'exponential', initialMs: 100, maxMs: 30000, jitter: 0 } });
    expect(wf.spec.steps[1].needs).toEqual(['extract']);
    expect(wf.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash to the same spec from YAML and from a TS object', () => {
    const a = Workflow.fromYaml('name: w\nsteps:\n  - id: a\n    uses: pdf.extract\n');
    const b = Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 'pdf.extract' }] });
    const c = Workflow.define({ name: 'w', version: 2, steps: [{ id: 'a', uses: 'pdf.extract' }] });
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
  });
});

describe('spec errors name the step, the field and the YAML line', () => {
  it('unknown step in needs', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: extract
    uses: pdf.extract
  - id: summary
    uses: pdf.extract
    needs: [extract, extrct]
`),
    );
    expect(error.message).toContain('step "summary"');
    expect(error.message).toContain('field "needs[1]"');
    expect(error.message).toContain('(line 7)');
    expect(error.message).toContain('unknown step "extrct"');
    expect(error.details).toMatchObject({ step: 'summary', field: 'needs[1]', line: 7 });
  });

  it('cycles, printing the cycle path', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: a
    uses: pdf.extract
    needs: [c]
  - id: b
    uses: pdf.extract
    needs: [a]
  - id: c
    uses: pdf.extract
    needs: [b]
`),
    );
    expect(error.message).toMatch(/cycle in needs: (a -> c -> b -> a|b -> a -> c -> b|c -> b -> a -> c)/);
    expect(error.message).toContain('field "needs"');
    expect(error.message).toMatch(/\(line (5|8|11)\)/);
  });

  it('a step that needs itself', () => {
    const error = specError(() => Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 't', needs: ['a'] }] }));
    expect(error.message).toContain('cycle in needs: a -> a');
    expect(error.message).toContain('step "a"');
  });

  it('references to steps that are not upstream', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: a
    uses: pdf.extract
  - id: b
    uses: pdf.extract
    with:
      path: "\${{ steps.a.output.text }}"
`),
    );
    expect(error.message).toContain('step "b"');
    expect(error.message).toContain('field "with.path"');
    expect(error.message).toContain('(line 8)');
    expect(error.message).toContain('not upstream of "b"; add "a" to its needs');
  });

  it('transitive needs count as upstream', () => {
    expect(() =>
      Workflow.define({
        name: 'w',
        steps: [
          { id: 'a', uses: 't' },
          { id: 'b', uses: 't', needs: ['a'] },
          { id: 'c', uses: 't', needs: ['b'], with: { x: '${{ steps.a.output }}' }, if: 'steps.a.status == "succeeded"' },
        ],
      }),
    ).not.toThrow();
  });

  it('references to unknown steps, unknown inputs, bad roots and bad step fields', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
inputs:
  report: { type: string }
steps:
  - id: a
    uses: pdf.extract
    with:
      x: "\${{ steps.zz.output }}"
      y: "\${{ inputs.reprot }}"
      z: "\${{ env.HOME }}"
      w: "\${{ steps.a.result }}"
`),
    );
    expect(error.message).toMatch(/step "a", field "with.x" \(line 8\): reference "steps.zz.output" names unknown step "zz"/);
    expect(error.message).toMatch(/step "a", field "with.y" \(line 9\): .*undeclared input \(did you mean "inputs.report"\?\); declared inputs: report/);
    expect(error.message).toMatch(/field "with.z" \(line 10\): .*must start with "inputs." or "steps."/);
    expect(error.message).toMatch(/field "with.w" \(line 11\): .*must read one of steps.a.output/);
    expect((error.details.issues as unknown[]).length).toBe(4);
  });

  it('bad expressions in if', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: a
    uses: pdf.extract
  - id: b
    uses: pdf.extract
    needs: [a]
    if: "\${{ steps.a.output.count > }}"
`),
    );
    expect(error.message).toMatch(/step "b", field "if" \(line 8\): bad expression/);
  });

  it('unknown tools, when tools are given at load', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: a
    uses: pdf.extract
  - id: b
    uses: pdf.extrakt
`, { tools }),
    );
    expect(error.message).toContain('step "b", field "uses" (line 6): unknown tool "pdf.extrakt"');
  });

  it('unknown tools, when tools are given at run', async () => {
    const wf = Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 'nope' }] });
    await expect(wf.run({ tools })).rejects.toMatchObject({ code: 'WORKFLOW_SPEC', message: expect.stringContaining('step "a", field "uses"') });
  });

  it('agent steps without an agents runner, and tool steps without tools', async () => {
    const wf = Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 'pdf.extract' }, { id: 'b', agent: { task: 't' } }] });
    const error = (await wf.run({}).catch((e: unknown) => e)) as WorkflowSpecError;
    expect(error.message).toContain('step "a", field "uses"');
    expect(error.message).toContain('step "b", field "agent"');
  });

  it('bad types', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: w
steps:
  - id: a
    uses: pdf.extract
    retry:
      max: many
    timeoutMs: -5
    onFailure: explode
`),
    );
    expect(error.message).toMatch(/step "a", field "retry.max" \(line 6\)/);
    expect(error.message).toMatch(/step "a", field "timeoutMs" \(line 7\)/);
    expect(error.message).toMatch(/step "a", field "onFailure" \(line 8\)/);
  });

  it('unknown fields (typos) are refused', () => {
    const error = specError(() => Workflow.fromYaml('name: w\nsteps:\n  - id: a\n    uses: pdf.extract\n    retyr: { max: 1 }\n'));
    expect(error.message).toContain('step "a", field "retyr" (line 5): unknown field "retyr"');
  });

  it('duplicate ids', () => {
    const error = specError(() => Workflow.fromYaml('name: w\nsteps:\n  - id: a\n    uses: t\n  - id: a\n    uses: t\n'));
    expect(error.message).toContain('step "a", field "id" (line 5): duplicate step id');
  });

  it('a step with no kind, or with two', () => {
    const error = specError(() =>
      Workflow.define({ name: 'w', steps: [{ id: 'a' }, { id: 'b', uses: 't', agent: { task: 'x' } }] }),
    );
    expect(error.message).toContain('step "a", field "id": a step needs one of "uses"');
    expect(error.message).toContain('step "b", field "agent": a step has exactly one of');
  });

  it('bad ids and a missing name', () => {
    const error = specError(() => Workflow.fromYaml('steps:\n  - id: "has space"\n    uses: t\n'));
    expect(error.message).toContain('field "name"');
    expect(error.message).toMatch(/step "has space", field "id" \(line 2\)/);
  });

  it('YAML syntax errors name the line', () => {
    const error = specError(() => Workflow.fromYaml('name: w\nsteps:\n  - id: a\n    uses: [t\n  - id: b\n'));
    expect(error.message).toMatch(/Invalid workflow YAML \(line \d+\)/);
  });

  it('errors in nested inline workflows name the path of steps', () => {
    const error = specError(() =>
      Workflow.fromYaml(`name: outer
steps:
  - id: sub
    workflow:
      name: inner
      steps:
        - id: x
          uses: pdf.extract
          needs: [y]
`),
    );
    expect(error.message).toContain('step "sub > x", field "needs[0]" (line 9): unknown step "y"');
  });

  it('nested workflow files: errors, and a file that nests itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-spec-'));
    writeFileSync(join(dir, 'inner.yaml'), 'name: inner\nsteps:\n  - id: x\n    uses: pdf.extract\n    timeoutMs: soon\n');
    writeFileSync(join(dir, 'loop.yaml'), 'name: loop\nsteps:\n  - id: again\n    workflow: loop.yaml\n');
    writeFileSync(join(dir, 'outer.yaml'), 'name: outer\nsteps:\n  - id: sub\n    workflow: inner.yaml\n');
    const nested = (await Workflow.load(join(dir, 'outer.yaml')).catch((e: unknown) => e)) as Error;
    expect(nested.message).toContain('step "sub", field "workflow" (line 4): nested workflow "inner.yaml" is invalid');
    expect(nested.message).toContain('step "x", field "timeoutMs" (line 5)');
    const loop = (await Workflow.load(join(dir, 'loop.yaml')).catch((e: unknown) => e)) as Error;
    expect(loop.message).toContain('nests itself');
    expect((await Workflow.load(join(dir, 'missing.yaml')).catch((e: unknown) => e)) as Error).toBeInstanceOf(WorkflowSpecError);
  });

  it('bad inputs at run time', async () => {
    const wf = Workflow.define({ name: 'w', inputs: { n: { type: 'integer' } }, steps: [{ id: 'a', uses: 'pdf.extract', with: { path: 'x' } }] });
    await expect(wf.run({ tools })).rejects.toThrow(/input "n" \(integer\) is required/);
    await expect(wf.run({ tools, inputs: { n: 1.5 } })).rejects.toThrow(/input "n" must be of type integer, got number/);
  });
});
