/**
 * Every `sh` block of docs/server.md that starts with `curl`, executed with the real curl against a server on a
 * tiny GLM (the documented 127.0.0.1:8080 replaced by the test server's URL): each must exit 0 with the shape
 * it shows.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflowAgentRunner } from '../../src/workflows/workflow-agent-runner';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { repoRoot } from '../agent/onnx-helpers';
import { useTinyServer } from './server-helpers';

const doc = readFileSync(path.join(repoRoot, 'docs', 'server.md'), 'utf8');
const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!.trim()).filter((block) => block.startsWith('curl'));
const tools = new ToolRegistry([]);
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'server-docs-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const served = useTinyServer('server-docs', {
  runs: { dataDir, tools, agents: (model, onEvent) => createWorkflowAgentRunner({ model, files: tools.files, tools, onEvent }) },
});

describe('docs/server.md curl examples', () => {
  it('has the examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it.each(blocks.map((block) => [block.split('\n')[0]!.slice(0, 70), block]))('%s', async (_title, block) => {
    const command = block.replaceAll('http://127.0.0.1:8080', served.url);
    const { stdout } = await promisify(execFile)('sh', ['-c', command], { timeout: 60_000 });
    if (command.includes('"stream": true')) {
      expect(stdout).toContain('data: ');
      expect(stdout.trimEnd().endsWith('data: [DONE]')).toBe(true);
    } else if (command.includes('/metrics')) {
      expect(stdout).toContain('autoglm_http_request_duration_seconds');
    } else {
      const body = JSON.parse(stdout) as Record<string, unknown>;
      if (command.includes('/v1/runs')) expect(body.id).toMatch(/^run-/);
      if (command.includes('/v1/models')) expect(body.object).toBe('list');
      if (command.includes('tool_choice')) expect(body).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
      else if (command.includes('chat/completions')) expect(body).toMatchObject({ object: 'chat.completion' });
    }
  });
});
