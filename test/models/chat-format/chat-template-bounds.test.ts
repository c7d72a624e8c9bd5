/**
 * Untrusted templates and prompts are bounded (issue 18 item 8): a template that loops over a huge range or builds
 * a huge string is stopped by time or memory with a typed error, and the process lives on; a prompt too long for
 * the context is refused before it is tokenized.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplateError, GenerationError } from '../../../src/errors';
import { ChatTemplate } from '../../../src/models/chat-format/chat-template';
import { loadChatTemplates } from '../../../src/models/chat-format/load-chat-templates';
import { GlmTokenizer } from '../../../src/models/glm-tokenizer';
import { createTinyGlm } from '../../../src/models/tiny/create-tiny-glm';
import { tinyChatTemplate } from '../../../src/models/tiny/glm-chat-template';

const context = { messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: true };

describe('chat template bounds', () => {
  it('refuses range(100000000) at once (one allocation that large would be a fatal out-of-memory), typed', () => {
    const hostile = new ChatTemplate('{% for i in range(100000000) %}{{ i }}{% endfor %}', { source: 'hostile', renderTimeoutMs: 1500 });
    expect(() => hostile.render(context)).toThrow(ChatTemplateError);
    expect(() => hostile.render(context)).toThrow(/range\(\) of 100000000 items is over the 100000/);
    const stepped = new ChatTemplate('{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}', { source: 'stepped' });
    expect(stepped.render(context)).toBe('10,7,4,1,');
  });

  it('stops a template that runs past its time limit, and renders the next one normally', () => {
    const hostile = new ChatTemplate('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', {
      source: 'hostile',
      renderTimeoutMs: 1500,
    });
    const started = performance.now();
    let error: unknown;
    try {
      hostile.render(context);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChatTemplateError);
    expect((error as ChatTemplateError).code).toBe('CHAT_TEMPLATE');
    expect((error as Error).message).toMatch(/did not finish rendering within 1500 ms/);
    expect(performance.now() - started).toBeLessThan(10_000);
    const good = new ChatTemplate(tinyChatTemplate('glm-edge', 'glm'), { source: 'edge' });
    expect(good.render(context)).toBe('<|user|>\nhi<|assistant|>\n');
  }, 30_000);

  it('refuses output beyond its size limit, template errors and oversized sources, all typed', () => {
    const big = new ChatTemplate('{% for i in range(2000) %}x{% endfor %}', { source: 'big', maxOutputChars: 1000 });
    expect(() => big.render(context)).toThrow(/rendered 2000 characters, more than the 1000 allowed/);
    const failing = new ChatTemplate("{{ raise_exception('no') }}", { source: 'failing' });
    expect(() => failing.render(context)).toThrow(ChatTemplateError);
    expect(() => new ChatTemplate('{% for %}', { source: 'broken' })).toThrow(/does not parse/);
    expect(() => new ChatTemplate('x'.repeat(2 << 20), { source: 'huge' })).toThrow(/more than the 1048576 accepted/);
  });
});

describe('chat template loading', () => {
  it('reads chat_template.jinja, named template lists, and picks tool_use when tools are given', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chat-templates-'));
    try {
      const named = loadChatTemplates(directory, {
        chat_template: [
          { name: 'default', template: 'D{{ messages[0].content }}' },
          { name: 'tool_use', template: 'T{{ tools | length }}' },
        ],
      });
      expect(named.default!.render(context)).toBe('Dhi');
      expect(named.toolUse!.render({ ...context, tools: [{ name: 'a' }] })).toBe('T1');
      expect(() => loadChatTemplates(directory, { chat_template: [{ name: 'x' }] })).toThrow(/chat_template\[0\] must be/);
      expect(() => loadChatTemplates(directory, { chat_template: 7 })).toThrow(ChatTemplateError);

      await writeFile(path.join(directory, 'chat_template.jinja'), 'J{{ messages[0].content }}');
      const fromFile = loadChatTemplates(directory, {});
      expect(fromFile.default!.source).toBe(path.join(directory, 'chat_template.jinja'));
      expect(fromFile.default!.render(context)).toBe('Jhi');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('a template that drops a message fails loudly instead of losing it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'chat-drop-'));
    try {
      // Only user messages: the system message (where our tool list goes for such a template) would vanish.
      const template = "{% for m in messages %}{% if m.role == 'user' %}<|user|>\n{{ m.content }}{% endif %}{% endfor %}<|assistant|>";
      const directory = path.join(root, 'model');
      await createTinyGlm(directory, { layers: 1, hiddenSize: 16, heads: 2, kvHeads: 1 });
      await writeFile(path.join(directory, 'chat_template.jinja'), template);
      const tokenizer = await GlmTokenizer.load(directory);
      expect(() => tokenizer.renderChat([{ role: 'user', content: 'hi' }], [{ name: 'a.b', description: 'x', parameters: { type: 'object' } }])).toThrow(
        /dropped a message's content/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a 5 MB prompt before tokenizing it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'chat-long-'));
    try {
      const directory = path.join(root, 'model');
      await createTinyGlm(directory, { layers: 1, hiddenSize: 16, heads: 2, kvHeads: 1, maxPositionEmbeddings: 2048 });
      const tokenizer = await GlmTokenizer.load(directory, { contextLength: 2048 });
      const prompt = 'revenue '.repeat(655_360); // 5 MiB
      const started = performance.now();
      expect(() => tokenizer.encodePrompt(prompt)).toThrow(GenerationError);
      expect(() => tokenizer.encodeChat([{ role: 'user', content: prompt }])).toThrow(/more tokens than the model's context can hold/);
      // Far below the seconds a 5 MB tokenization takes: the check is a length comparison.
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
