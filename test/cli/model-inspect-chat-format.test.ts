/** `autoglm model inspect` shows the chat format detected from the model's own template. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import { callMain } from './run-cli';

describe('model inspect: chat format', () => {
  it('names the format, where tools go, the call layout, parallel calls and stop ids', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'inspect-format-'));
    try {
      const edge = path.join(root, 'edge');
      const glm4 = path.join(root, 'glm4');
      await createTinyGlm(edge, { layers: 1, hiddenSize: 16, heads: 2, kvHeads: 1, chatTemplate: 'glm-edge' });
      await createTinyGlm(glm4, { family: 'glm4', layers: 1, hiddenSize: 16, heads: 2, kvHeads: 1, chatTemplate: 'glm4-0414', chatTemplateFile: 'jinja' });
      const text = await callMain(['model', 'inspect', edge], { cwd: root, env: {} });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/chat format {3}glm-edge; tools: rendered by autoglm; .*answer prefix: ""; observation role: user; parallel calls: no; stop ids \d+/);
      const json = await callMain(['model', 'inspect', glm4, '--json'], { cwd: root, env: {} });
      expect(JSON.parse(json.stdout).chatFormat).toMatchObject({
        name: 'glm4-0414',
        tools: 'template',
        recordedCallSeparator: ' \n',
        parallelCallSeparator: '<|assistant|>',
        answerPrefix: '\n',
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
