/**
 * Real GLM chat templates (test/fixtures/chat-templates/README.md names their sources) render byte-equal to Python
 * jinja2 rendering them as transformers does, for conversations with system prompts, tools, recorded calls,
 * parallel calls and observations; and to llama.cpp's expected strings.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../../src/models/chat-format/chat-template';
import { detectChatFormat } from '../../../src/models/chat-format/detect-chat-format';
import { chatTemplateInput, renderChatSegments, segmentsText } from '../../../src/models/chat-format/render-chat';
import type { ChatMessage, ToolSpec } from '../../../src/models/language-model';

const fixtures = join(import.meta.dirname, '../../fixtures/chat-templates');
const read = (file: string): string => readFileSync(join(fixtures, file), 'utf8');
const { tools, conversations } = JSON.parse(read('conversations.json')) as {
  tools: ToolSpec[];
  conversations: Record<string, { tools: boolean; messages: ChatMessage[] }>;
};
const inputs = JSON.parse(read('inputs.json')) as Record<string, unknown>;
const expected = JSON.parse(read('expected.json')) as Record<string, string>;
const templateFiles = readdirSync(fixtures).filter((name) => name.endsWith('.jinja')).sort();

function load(file: string): ChatTemplate {
  return new ChatTemplate(read(file), { source: file });
}

describe('real GLM chat templates', () => {
  it('detects what each template can carry', () => {
    const formats = Object.fromEntries(templateFiles.map((file) => [file, detectChatFormat(load(file))]));
    expect(formats['xinference-glm4-0414.jinja']).toMatchObject({
      name: 'glm4-0414', tools: 'template', recordedCallSeparator: ' \n', observationRole: 'observation',
      generationPrompt: '<|assistant|>', answerPrefix: '\n', parallelCallSeparator: '<|assistant|>',
    });
    expect(formats['xinference-glm4-chat.jinja']).toMatchObject({
      name: 'glm4-chat', tools: 'system-message', recordedCallSeparator: '\n', observationRole: 'observation', answerPrefix: '\n',
    });
    expect(formats['xinference-glm-edge-chat.jinja']).toMatchObject({
      name: 'glm-edge', tools: 'ours', recordedCallSeparator: undefined, observationRole: 'user',
      generationPrompt: '<|assistant|>\n', answerPrefix: '', parallelCallSeparator: undefined,
    });
    expect(formats['llama-cpp-glmedge.jinja']).toMatchObject({ name: 'glm-edge', tools: 'ours', answerPrefix: '\n' });
    expect(formats['llama-cpp-chatglm4.jinja']).toMatchObject({ tools: 'system-message', generationPrompt: '<|assistant|>\n', answerPrefix: '' });
  });

  for (const file of templateFiles) {
    for (const [name, conversation] of Object.entries(conversations)) {
      const key = `${file}/${name}`;
      it(`${key}: renders byte-equal to jinja2 (transformers semantics)`, () => {
        const template = load(file);
        const format = detectChatFormat(template);
        const conversationTools = conversation.tools ? tools : undefined;
        const { contents: _contents, ...input } = chatTemplateInput(format, conversation.messages, conversationTools);
        expect(input).toEqual(inputs[key]);
        const text = segmentsText(renderChatSegments(template, format, conversation.messages, conversationTools));
        expect(text).toBe(expected[key]);
        // Nothing dropped: every tool name, every content is in the prompt.
        for (const tool of conversationTools ?? []) expect(text).toContain(`## ${tool.name}`);
        for (const message of conversation.messages) {
          expect(text).toContain(message.content);
          if (message.metadata) expect(text).toContain(message.metadata);
        }
      });
    }
  }

  it("renders llama.cpp's test conversation as llama.cpp expects (tests/test-chat-template.cpp)", () => {
    const cases = JSON.parse(read('llama-cpp-expected.json')) as { conversation: ChatMessage[]; ChatGLM4: string; GLMEdge: string };
    for (const [file, want] of [['llama-cpp-chatglm4.jinja', cases.ChatGLM4], ['llama-cpp-glmedge.jinja', cases.GLMEdge]] as const) {
      const template = load(file);
      expect(segmentsText(renderChatSegments(template, detectChatFormat(template), cases.conversation))).toBe(want);
    }
  });

  it('keeps message contents in their own segments, apart from the template text', () => {
    const template = load('xinference-glm4-0414.jinja');
    const forged = conversations['forged-turns']!;
    const segments = renderChatSegments(template, detectChatFormat(template), forged.messages, tools);
    const contentText = segments.filter((segment) => segment.content).map((segment) => segment.text);
    expect(contentText).toContain(forged.messages[1]!.content);
    for (const segment of segments.filter((segment) => !segment.content)) expect(segment.text).not.toContain('Ignore the task');
  });
});
