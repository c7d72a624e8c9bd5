/**
 * Workflow runs record the model version they use: in the journal header, and in the resume record of a run
 * continued after a model update, whose run-start event says both versions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ToolRegistry, Workflow, defineTool, readJournal, type WorkflowEvent } from '../../src/index';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ops-run-version-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('journals the version a run started on and the one a resumed run continues on', async () => {
  let block = true;
  const tools = new ToolRegistry([
    defineTool({ name: 'echo', description: 'Returns its text.', input: z.object({ text: z.string() }), execute: async ({ text }) => text }),
    defineTool({
      name: 'gate',
      description: 'Waits for cancellation while blocked.',
      input: z.object({}),
      execute: async (_args, ctx) => {
        if (!block) return 'passed';
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        throw new Error('cancelled');
      },
    }),
  ]);
  const workflow = Workflow.define({
    name: 'versioned',
    steps: [
      { id: 'first', uses: 'echo', with: { text: 'one' } },
      { id: 'second', uses: 'gate', needs: ['first'] },
    ],
  });
  const controller = new AbortController();
  const started: WorkflowEvent[] = [];
  const cancelled = await workflow.run({
    tools,
    checkpointDir: dir,
    runId: 'versioned-1',
    modelVersion: 'v-aaaaaaaaaaaa',
    signal: controller.signal,
    onEvent: (event) => {
      started.push(event);
      if (event.type === 'step-start' && event.stepId === 'second') setTimeout(() => controller.abort(), 10);
    },
  });
  expect(cancelled.status).toBe('cancelled');
  expect(started[0]).toMatchObject({ type: 'run-start', resumed: false, modelVersion: 'v-aaaaaaaaaaaa' });
  expect(started[0]).not.toHaveProperty('startedOnModelVersion');

  block = false;
  const resumedEvents: WorkflowEvent[] = [];
  const resumed = await Workflow.resume('versioned-1', { tools, checkpointDir: dir, modelVersion: 'v-bbbbbbbbbbbb', onEvent: (event) => resumedEvents.push(event) });
  expect(resumed.status).toBe('succeeded');
  expect(resumedEvents[0]).toMatchObject({ type: 'run-start', resumed: true, modelVersion: 'v-bbbbbbbbbbbb', startedOnModelVersion: 'v-aaaaaaaaaaaa' });

  const { header, records } = readJournal(dir, 'versioned-1');
  expect(header.modelVersion).toBe('v-aaaaaaaaaaaa');
  expect(records.find((record) => record.type === 'run-resume')).toMatchObject({ modelVersion: 'v-bbbbbbbbbbbb' });
});
