import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/tools/define-tool';
import { retryDelay } from '../../src/workflows/retry-delay';
import { seededRandom } from '../../src/models/generation/random-generator';
import { Workflow } from '../../src/workflows/workflow';
import type { WorkflowEvent } from '../../src/workflows/workflow-types';
import { ScriptedModel } from '../support/scripted-model';
import { FakeToolCaller } from '../support/fake-tool-caller';

interface Span {
  step: string;
  start: number;
  end: number;
  aborted: boolean;
}

/** Tools that record when they ran (performance.now), so tests can prove order and overlap. */
function makeTools() {
  const spans: Span[] = [];
  const failures = new Map<string, number>();
  const wait = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      }, { once: true });
    });
  const tools = new FakeToolCaller([
    defineTool({
      name: 'work',
      description: 'waits ms, returns value',
      input: z.object({ ms: z.number().default(0), value: z.unknown().optional(), failTimes: z.number().default(0), key: z.string().optional() }),
      async execute({ ms, value, failTimes, key }, ctx) {
        const span: Span = { step: ctx.stepId!, start: performance.now(), end: 0, aborted: false };
        spans.push(span);
        try {
          await wait(ms, ctx.signal);
        } catch (error) {
          span.aborted = true;
          span.end = performance.now();
          throw error;
        }
        span.end = performance.now();
        const name = key ?? ctx.stepId!;
        const failed = failures.get(name) ?? 0;
        if (failed < failTimes) {
          failures.set(name, failed + 1);
          throw new Error(`planned failure ${failed + 1} of ${name}`);
        }
        return value === undefined ? { step: ctx.stepId, key: ctx.idempotencyKey } : value;
      },
    }),
    defineTool({
      name: 'ignore-signal',
      description: 'waits ms without looking at its signal',
      input: z.object({ ms: z.number() }),
      execute: async ({ ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return 'late';
      },
    }),
    defineTool({ name: 'echo', description: 'returns its arguments', input: z.record(z.string(), z.unknown()), execute: (args) => args }),
  ]);
  return { tools, spans, span: (step: string) => spans.find((s) => s.step === step)! };
}

describe('scheduling', () => {
  it('runs a step only after all its needs ended, independent steps in parallel', async () => {
    const { tools, span, spans } = makeTools();
    const wf = Workflow.fromYaml(`
name: diamond
steps:
  - { id: a, uses: work, with: { ms: 20 } }
  - { id: b, uses: work, needs: [a], with: { ms: 60 } }
  - { id: c, uses: work, needs: [a], with: { ms: 60 } }
  - { id: d, uses: work, needs: [b, c], with: { ms: 1 } }
`);
    const run = await wf.run({ tools, concurrency: 4 });
    expect(run.status).toBe('succeeded');
    expect(spans).toHaveLength(4);
    expect(span('b').start).toBeGreaterThanOrEqual(span('a').end);
    expect(span('c').start).toBeGreaterThanOrEqual(span('a').end);
    expect(span('d').start).toBeGreaterThanOrEqual(Math.max(span('b').end, span('c').end));
    // b and c overlap in time: each started before the other ended.
    expect(span('b').start).toBeLessThan(span('c').end);
    expect(span('c').start).toBeLessThan(span('b').end);
    expect(Object.values(run.steps).map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(run.steps.d.startedAt).toBeGreaterThanOrEqual(run.steps.b.endedAt!);
  });

  it('honours the concurrency limit', async () => {
    const { tools, spans } = makeTools();
    const steps = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, uses: 'work', with: { ms: 25 } }));
    await Workflow.define({ name: 'wide', steps }).run({ tools, concurrency: 2 });
    const events = spans.flatMap((s) => [{ t: s.start, d: 1 }, { t: s.end, d: -1 }]).sort((x, y) => x.t - y.t || x.d - y.d);
    let running = 0;
    let peak = 0;
    for (const event of events) peak = Math.max(peak, (running += event.d));
    expect(peak).toBe(2);
  });

  it('uses the spec concurrency when run() gives none', async () => {
    const { tools, spans } = makeTools();
    const steps = Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, uses: 'work', with: { ms: 20 } }));
    await Workflow.define({ name: 'serial', concurrency: 1, steps }).run({ tools });
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].start).toBeGreaterThanOrEqual(sorted[i - 1].end);
  });

  it('emits events in order and gives each attempt an idempotency key', async () => {
    const { tools } = makeTools();
    const events: WorkflowEvent[] = [];
    const run = await Workflow.define({ name: 'ev', steps: [{ id: 'a', uses: 'work' }, { id: 'b', uses: 'work', needs: ['a'] }] }).run({
      tools,
      runId: 'r1',
      onEvent: (e) => events.push(e),
    });
    expect(events.map((e) => `${e.type}${'stepId' in e ? `:${e.stepId}` : ''}`)).toEqual([
      'run-start',
      'step-start:a',
      'step-end:a',
      'step-start:b',
      'step-end:b',
      'run-end',
    ]);
    expect(run.runId).toBe('r1');
    expect(run.steps.b.output).toEqual({ step: 'b', key: 'r1:b:1' });
    expect(tools.calls[0].options).toMatchObject({ runId: 'r1', stepId: 'a', idempotencyKey: 'r1:a:1' });
  });

  it('generates a runId when none is given', async () => {
    const { tools } = makeTools();
    const run = await Workflow.define({ name: 'id', steps: [{ id: 'a', uses: 'work' }] }).run({ tools });
    expect(run.runId).toMatch(/^run-[a-z0-9]+-[0-9a-f]{8}$/);
  });
});

describe('references and outputs', () => {
  it('passes typed values and interpolated strings between steps, and resolves workflow outputs', async () => {
    const { tools } = makeTools();
    const wf = Workflow.fromYaml(`
name: refs
inputs:
  company: { type: string }
  year: { type: integer, default: 2024 }
steps:
  - id: extract
    uses: work
    with: { value: { pages: [{ text: "p1" }, { text: "p2" }], count: 2 } }
  - id: use
    uses: echo
    needs: [extract]
    with:
      count: \${{ steps.extract.output.count }}
      second: \${{ steps.extract.output.pages[1].text }}
      all: \${{ steps.extract.output.pages }}
      title: "\${{ inputs.company }} \${{ inputs.year }}: \${{ steps.extract.output.count }} pages"
      big: \${{ steps.extract.output.count > 1 }}
outputs:
  title: \${{ steps.use.output.title }}
  count: \${{ steps.use.output.count }}
`);
    const run = await wf.run({ tools, inputs: { company: 'ACME' } });
    expect(run.steps.use.output).toEqual({ count: 2, second: 'p2', all: [{ text: 'p1' }, { text: 'p2' }], title: 'ACME 2024: 2 pages', big: true });
    expect(run.outputs).toEqual({ title: 'ACME 2024: 2 pages', count: 2 });
  });

  it('without declared outputs, returns every succeeded step output', async () => {
    const { tools } = makeTools();
    const run = await Workflow.define({ name: 'o', steps: [{ id: 'a', uses: 'work', with: { value: 1 } }, { id: 'b', uses: 'work', with: { value: 2 } }] }).run({ tools });
    expect(run.outputs).toEqual({ a: 1, b: 2 });
  });
});

describe('conditions', () => {
  it('skips a step whose if is false, and its dependents', async () => {
    const { tools, spans } = makeTools();
    const wf = Workflow.fromYaml(`
name: cond
steps:
  - { id: count, uses: work, with: { value: { n: 0 } } }
  - { id: many, uses: work, needs: [count], if: "\${{ steps.count.output.n > 0 }}" }
  - { id: none, uses: work, needs: [count], if: "steps.count.output.n == 0 && !steps.count.error" }
  - { id: after-many, uses: work, needs: [many] }
`);
    const run = await wf.run({ tools });
    expect(run.status).toBe('succeeded');
    expect(run.steps.many).toMatchObject({ status: 'skipped', attempts: 0, reason: 'condition is false' });
    expect(run.steps['after-many']).toMatchObject({ status: 'skipped', reason: 'need "many" did not succeed' });
    expect(run.steps.none.status).toBe('succeeded');
    expect(spans.map((s) => s.step).sort()).toEqual(['count', 'none']);
  });
});

describe('retries', () => {
  it('retries with exponential backoff until success, counting attempts', async () => {
    const { tools, spans } = makeTools();
    const events: WorkflowEvent[] = [];
    const run = await Workflow.define({
      name: 'retry',
      steps: [{ id: 'flaky', uses: 'work', with: { failTimes: 2, value: 'ok' }, retry: { max: 3, backoff: 'exponential', initialMs: 20, maxMs: 1000 } }],
    }).run({ tools, onEvent: (e) => events.push(e) });
    expect(run.status).toBe('succeeded');
    expect(run.steps.flaky).toMatchObject({ status: 'succeeded', attempts: 3, output: 'ok' });
    const retries = events.filter((e) => e.type === 'step-retry');
    expect(retries.map((e) => (e as { delayMs: number }).delayMs)).toEqual([20, 40]);
    expect(spans).toHaveLength(3);
    // The waits really happened between attempts.
    expect(spans[1].start - spans[0].end).toBeGreaterThanOrEqual(19);
    expect(spans[2].start - spans[1].end).toBeGreaterThanOrEqual(39);
    expect(tools.calls.map((c) => c.options.idempotencyKey?.split(':').slice(1).join(':'))).toEqual(['flaky:1', 'flaky:2', 'flaky:3']);
  });

  it('fails after max retries with the last error', async () => {
    const { tools, spans } = makeTools();
    const run = await Workflow.define({
      name: 'retry',
      steps: [{ id: 'bad', uses: 'work', with: { failTimes: 10 }, retry: { max: 2, backoff: 'fixed', initialMs: 5 } }],
    }).run({ tools });
    expect(run.status).toBe('failed');
    expect(run.steps.bad).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'TOOL_EXECUTION', message: 'planned failure 3 of bad' } });
    expect(spans).toHaveLength(3);
  });

  it('does not retry invalid arguments', async () => {
    const { tools } = makeTools();
    const run = await Workflow.define({ name: 'r', steps: [{ id: 'a', uses: 'work', with: { ms: 'slow' }, retry: { max: 3, initialMs: 1 } }] }).run({ tools });
    expect(run.steps.a).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'TOOL_INPUT' } });
  });

  it('computes fixed, exponential, capped and seeded-jitter delays', () => {
    const policy = { max: 5, backoff: 'exponential' as const, initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((n) => retryDelay({ ...policy, backoff: 'fixed' }, n))).toEqual([100, 100, 100]);
    const jittered = (seed: number) => [1, 2, 3].map((n) => retryDelay({ ...policy, jitter: 0.5 }, n, seededRandom(seed)));
    expect(jittered(7)).toEqual(jittered(7));
    expect(jittered(7)).not.toEqual(jittered(8));
    jittered(7).forEach((delay, i) => {
      expect(delay).toBeLessThanOrEqual(100 * 2 ** i);
      expect(delay).toBeGreaterThanOrEqual(50 * 2 ** i);
    });
  });
});

describe('timeouts', () => {
  it('aborts the step signal on timeout, counts it as a failure and retries', async () => {
    const { tools, spans } = makeTools();
    const run = await Workflow.define({
      name: 't',
      steps: [{ id: 'slow', uses: 'work', with: { ms: 5000 }, timeoutMs: 40, retry: { max: 1, backoff: 'fixed', initialMs: 1 } }],
    }).run({ tools });
    expect(run.status).toBe('failed');
    expect(run.steps.slow).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'STEP_TIMEOUT' } });
    expect(run.steps.slow.error!.message).toContain('timed out after 40 ms');
    expect(spans).toHaveLength(2);
    // The tool saw its signal abort: it stopped well before its 5 s.
    for (const span of spans) {
      expect(span.aborted).toBe(true);
      expect(span.end - span.start).toBeLessThan(2000);
    }
  });

  it('ends the attempt on time even when the tool ignores its signal', async () => {
    const { tools } = makeTools();
    const started = performance.now();
    const run = await Workflow.define({ name: 't', steps: [{ id: 'deaf', uses: 'ignore-signal', with: { ms: 1500 }, timeoutMs: 30 }] }).run({ tools });
    expect(run.steps.deaf.error?.code).toBe('STEP_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(1400);
  });
});

describe('failure policies', () => {
  const spec = (policy: 'fail' | 'continue' | 'skip-dependents') =>
    Workflow.define({
      name: `policy-${policy}`,
      steps: [
        { id: 'bad', uses: 'work', with: { failTimes: 1 }, onFailure: policy },
        { id: 'slow-sibling', uses: 'work', with: { ms: 30 } },
        { id: 'child', uses: 'echo', needs: ['bad'], with: { status: '${{ steps.bad.status }}' } },
        { id: 'grandchild', uses: 'work', needs: ['child'] },
        { id: 'after-sibling', uses: 'work', needs: ['slow-sibling'] },
      ],
    });

  it('fail: stops scheduling, lets running steps finish, and fails the run', async () => {
    const { tools } = makeTools();
    const run = await spec('fail').run({ tools });
    expect(run.status).toBe('failed');
    expect(run.steps.bad).toMatchObject({ status: 'failed', error: { code: 'TOOL_EXECUTION' } });
    expect(run.steps['slow-sibling'].status).toBe('succeeded');
    for (const id of ['child', 'grandchild', 'after-sibling']) expect(run.steps[id]).toMatchObject({ status: 'skipped', attempts: 0 });
  });

  it('continue: dependents run and see the failure; the run succeeds', async () => {
    const { tools } = makeTools();
    const run = await spec('continue').run({ tools });
    expect(run.status).toBe('succeeded');
    expect(run.steps.bad.status).toBe('failed');
    expect(run.steps.child).toMatchObject({ status: 'succeeded', output: { status: 'failed' } });
    expect(run.steps.grandchild.status).toBe('succeeded');
    expect(run.steps['after-sibling'].status).toBe('succeeded');
  });

  it('skip-dependents: its dependents (transitively) are skipped, other branches run', async () => {
    const { tools } = makeTools();
    const run = await spec('skip-dependents').run({ tools });
    expect(run.status).toBe('succeeded');
    expect(run.steps.bad.status).toBe('failed');
    expect(run.steps.child).toMatchObject({ status: 'skipped', reason: 'need "bad" did not succeed' });
    expect(run.steps.grandchild.status).toBe('skipped');
    expect(run.steps['after-sibling'].status).toBe('succeeded');
  });
});

describe('cancellation', () => {
  it('aborts running steps, starts nothing new and ends cancelled', async () => {
    const { tools, spans } = makeTools();
    const controller = new AbortController();
    const events: WorkflowEvent[] = [];
    const wf = Workflow.define({
      name: 'cancel',
      steps: [
        { id: 'a', uses: 'work', with: { ms: 5000 } },
        { id: 'b', uses: 'work', with: { ms: 5000 } },
        { id: 'c', uses: 'work', needs: ['a'] },
        { id: 'd', uses: 'work', with: { ms: 5000 }, retry: { max: 3, initialMs: 5000 } },
      ],
    });
    const promise = wf.run({ tools, signal: controller.signal, onEvent: (e) => events.push(e) });
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const run = await promise;
    expect(performance.now() - started).toBeLessThan(3000);
    expect(run.status).toBe('cancelled');
    expect(run.steps.a.status).toBe('cancelled');
    expect(run.steps.b.status).toBe('cancelled');
    expect(run.steps.c).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(spans.filter((s) => s.step !== 'c').every((s) => s.aborted)).toBe(true);
    expect(spans.some((s) => s.step === 'c')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'cancelled' });
  });

  it('an already aborted signal runs nothing', async () => {
    const { tools, spans } = makeTools();
    const run = await Workflow.define({ name: 'x', steps: [{ id: 'a', uses: 'work' }] }).run({ tools, signal: AbortSignal.abort() });
    expect(run.status).toBe('cancelled');
    expect(spans).toHaveLength(0);
  });
});

describe('agent steps and the model queue', () => {
  it('runs agent steps through the injected runner with resolved references, one generation at a time per model', async () => {
    const { tools, span } = makeTools();
    const model = new ScriptedModel([], { fallback: 'ok' });
    let running = 0;
    let peak = 0;
    const seen: unknown[] = [];
    const wf = Workflow.fromYaml(`
name: agents
steps:
  - { id: extract, uses: work, with: { value: { text: "Revenue 10" } } }
  - id: summarize
    needs: [extract]
    agent: { task: summarize, instructions: "\${{ steps.extract.output.text }}" }
    with: { text: "\${{ steps.extract.output.text }}" }
  - id: classify
    needs: [extract]
    agent: { task: classify }
  - { id: modeltool, uses: work, needs: [extract], usesModel: true, with: { ms: 30 } }
  - { id: plain, uses: work, needs: [extract], with: { ms: 30 } }
`);
    const spans: Record<string, [number, number]> = {};
    const run = await wf.run({
      tools,
      model,
      concurrency: 5,
      agents: async (agent, input, ctx) => {
        running++;
        peak = Math.max(peak, running);
        const start = performance.now();
        seen.push({ agent, input, model: ctx.model === model, key: ctx.idempotencyKey.split(':').slice(1).join(':') });
        const answer = await model.generate(`${agent.task}: ${JSON.stringify(input)}`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        spans[ctx.stepId] = [start, performance.now()];
        running--;
        return { task: agent.task, text: answer.text };
      },
    });
    expect(run.status).toBe('succeeded');
    expect(run.steps.summarize.output).toEqual({ task: 'summarize', text: 'ok' });
    expect(seen).toContainEqual({ agent: { task: 'summarize', instructions: 'Revenue 10' }, input: { text: 'Revenue 10' }, model: true, key: 'summarize:1' });
    expect(peak).toBe(1);
    expect(model.calls).toHaveLength(2);
    // The model-bound tool step did not overlap the agent steps, while the plain step ran beside them.
    const modelBound = [spans.summarize, spans.classify, [span('modeltool').start, span('modeltool').end]].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < modelBound.length; i++) expect(modelBound[i][0]).toBeGreaterThanOrEqual(modelBound[i - 1][1]);
    const plain = span('plain');
    expect(modelBound.some(([start, end]) => plain.start < end && start < plain.end)).toBe(true);
  });

  it('a model that runs several sequences takes that many model-bound steps at once', async () => {
    const model = Object.assign(new ScriptedModel([], { fallback: 'ok' }), { sequences: 2 });
    let running = 0;
    let peak = 0;
    const run = await Workflow.define({ name: 'wide', steps: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, agent: { task: 't' } })) }).run({
      model,
      concurrency: 5,
      agents: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
        return 'done';
      },
    });
    expect(run.status).toBe('succeeded');
    expect(peak).toBe(2);
  });

  it('a failing agent step is a step failure', async () => {
    const run = await Workflow.define({ name: 'a', steps: [{ id: 'x', agent: { task: 't' } }] }).run({
      agents: async () => {
        throw new Error('agent gave up');
      },
    });
    expect(run.steps.x).toMatchObject({ status: 'failed', error: { code: 'STEP_ERROR', message: 'agent gave up' } });
  });
});

describe('nested workflows', () => {
  it('runs an inline nested workflow with its with: as inputs and its outputs as the step output', async () => {
    const { tools } = makeTools();
    const wf = Workflow.fromYaml(`
name: outer
steps:
  - { id: prepare, uses: work, with: { value: 21 } }
  - id: sub
    needs: [prepare]
    with: { n: "\${{ steps.prepare.output }}" }
    workflow:
      name: inner
      inputs: { n: { type: number } }
      steps:
        - { id: one, uses: echo, with: { got: "\${{ inputs.n }}" } }
        - { id: two, uses: echo, needs: [one], with: { doubled: "\${{ steps.one.output.got }}\${{ steps.one.output.got }}" } }
      outputs:
        value: \${{ steps.two.output.doubled }}
  - { id: last, uses: echo, needs: [sub], with: { v: "\${{ steps.sub.output.value }}" } }
`);
    const run = await wf.run({ tools, runId: 'nest' });
    expect(run.status).toBe('succeeded');
    expect(run.steps.sub.output).toEqual({ value: '2121' });
    expect(run.steps.last.output).toEqual({ v: '2121' });
    expect(tools.calls.find((c) => c.options.stepId === 'one')!.options.idempotencyKey).toBe('nest:sub:1:one:1');
  });

  it('a failing nested workflow fails its step with the inner step named', async () => {
    const { tools } = makeTools();
    const run = await Workflow.define({
      name: 'outer',
      steps: [{ id: 'sub', workflow: { name: 'inner', steps: [{ id: 'boom', uses: 'work', with: { failTimes: 5 } }] } }],
    }).run({ tools });
    expect(run.status).toBe('failed');
    expect(run.steps.sub.error).toMatchObject({ code: 'STEP_FAILED' });
    expect(run.steps.sub.error!.message).toContain('Nested workflow "inner" failed at step "boom": planned failure');
  });
});

describe('logs', () => {
  it('writes pino lines carrying runId and stepId when given a logger', async () => {
    const { pino } = await import('pino');
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { tools } = makeTools();
    await Workflow.define({ name: 'logged', steps: [{ id: 'a', uses: 'work', with: { failTimes: 1 }, retry: { max: 1, initialMs: 1 } }] }).run({ tools, logger, runId: 'log1' });
    expect(lines.find((l) => l.msg === 'run-start')).toMatchObject({ runId: 'log1', workflow: 'logged' });
    expect(lines.find((l) => l.msg === 'step-retry')).toMatchObject({ runId: 'log1', stepId: 'a', attempt: 1 });
    expect(lines.find((l) => l.msg === 'step-end')).toMatchObject({ runId: 'log1', stepId: 'a', status: 'succeeded', attempts: 2 });
    expect(lines.find((l) => l.msg === 'run-end')).toMatchObject({ runId: 'log1', status: 'succeeded' });
  });
});
