/**
 * Issue 18 (8, 9, 10): hostile workflow files end in typed spec errors, quickly. Linear validation of long chains,
 * linear template scanning, bounded expression nesting, YAML alias bombs, non-string YAML, timer overflow.
 * The time bounds are generous guards against the quadratic behaviour (91 s and 50 s before), not benchmarks.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolRegistry, Workflow, WorkflowSpecError } from '../../src/index';
import { callMain, repositoryRoot } from '../cli/run-cli';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const echo = defineTool({ name: 'echo', description: 'echo', input: z.object({ value: z.unknown() }), execute: ({ value }) => value });

function specError(load: () => unknown): WorkflowSpecError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowSpecError);
    return error as WorkflowSpecError;
  }
  throw new Error('expected a WorkflowSpecError');
}

describe('bounded workflow parsing', () => {
  it('8,000 chained steps, each reading the previous output, validate in linear time', () => {
    const steps = Array.from({ length: 8000 }, (_, i) =>
      i === 0 ? { id: 's0', uses: 'echo', with: { value: 1 } } : { id: `s${i}`, uses: 'echo', needs: `s${i - 1}`, with: { value: `\${{ steps.s${i - 1}.output }}` } },
    );
    const started = performance.now();
    const workflow = Workflow.define({ name: 'chain', steps }, { tools: new ToolRegistry([echo]) });
    expect(workflow.spec.steps).toHaveLength(8000);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('"${{" repeated 200,000 times is scanned in linear time and refused or kept as text', () => {
    const text = '${{'.repeat(200_000);
    const started = performance.now();
    const workflow = Workflow.define({ name: 'opens', steps: [{ id: 'a', uses: 'echo', with: { value: text } }] });
    expect(workflow.spec.steps[0].with).toEqual({ value: text });
    const closed = specError(() => Workflow.define({ name: 'closed', steps: [{ id: 'a', uses: 'echo', with: { value: `${text}}}` } }] }));
    expect(closed.message).toMatch(/the expression is 599997 characters long; the limit is 4096/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('20,000 nested parentheses or "!" are a spec error, not a RangeError', () => {
    for (const expression of [`${'('.repeat(20_000)}true${')'.repeat(20_000)}`.slice(0, 4000), `${'!'.repeat(20_000)}true`.slice(-4000)]) {
      const error = specError(() => Workflow.define({ name: 'deep', steps: [{ id: 'a', uses: 'echo', if: expression, with: { value: 1 } }] }));
      expect(error.message).toMatch(/nests "\(" and "!" more than 64 deep/);
    }
    const long = specError(() => Workflow.define({ name: 'deep', steps: [{ id: 'a', uses: 'echo', if: `${'!'.repeat(20_000)}true`, with: { value: 1 } }] }));
    expect(long.message).toMatch(/limit is 4096/);
  });

  it('a YAML alias bomb is a spec error (exit 2 in the CLI), not a ReferenceError', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const yaml = `${levels.join('\n')}\nname: bomb\nsteps:\n  - { id: s, uses: echo, with: { value: *i } }\n`;
    const error = specError(() => Workflow.fromYaml(yaml));
    expect(error.message).toMatch(/Invalid workflow YAML: .*alias/i);
    const folder = await mkdtemp(path.join(os.tmpdir(), 'alias-bomb-'));
    await writeFile(path.join(folder, 'bomb.yaml'), yaml);
    const result = await callMain(['run', path.join(folder, 'bomb.yaml')], { cwd: repositoryRoot, env: { AUTOGLM_CACHE_DIR: '/nonexistent-autoglm-cache' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^autoglm: WORKFLOW_SPEC: Invalid workflow YAML/);
  });

  it('Workflow.fromYaml(undefined) and other non-objects are typed errors', () => {
    expect(specError(() => Workflow.fromYaml(undefined as never)).message).toMatch(/must be a string of YAML text, got undefined/);
    expect(specError(() => Workflow.fromYaml('just text')).message).toMatch(/a workflow is an object with name and steps, got string/);
    expect(specError(() => Workflow.define(null as never)).message).toMatch(/got null/);
  });

  it('timeouts past 2^31-1 ms are refused at validation (setTimeout would fire them at once)', () => {
    const error = specError(() =>
      Workflow.define({
        name: 'timers',
        steps: [{ id: 'a', uses: 'echo', with: { value: 1 }, timeoutMs: 2_147_483_648, retry: { max: 1, initialMs: 3e9, maxMs: 3e9 } }],
      }),
    );
    expect(error.message).toMatch(/field "timeoutMs".*must be at most 2147483647 ms/);
    expect(error.message).toMatch(/field "retry.initialMs".*must be at most 2147483647 ms/);
    expect(error.message).toMatch(/field "retry.maxMs"/);
    expect(() => Workflow.define({ name: 'ok', steps: [{ id: 'a', uses: 'echo', with: { value: 1 }, timeoutMs: 2_147_483_647 }] })).not.toThrow();
  });
});
