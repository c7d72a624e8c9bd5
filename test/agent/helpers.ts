import { z } from 'zod';
import { defineTool } from '../../src/tools/define-tool';
import type { Tool, ToolContext } from '../../src/tools/tool';

export interface PromptMessage {
  role: string;
  /** For assistant messages: the metadata (tool name) and the content, as rendered `{metadata}\n{content}`. */
  body: string;
}

/** Split a prompt rendered by ScriptedModel into its role segments (the tools block is a `system` segment). */
export function promptMessages(prompt: string): PromptMessage[] {
  const parts = prompt.split(/<\|(system|user|assistant|observation)\|>/);
  const messages: PromptMessage[] = [];
  for (let index = 1; index < parts.length; index += 2) messages.push({ role: parts[index]!, body: parts[index + 1]! });
  return messages;
}

export const Answer = z.object({ total: z.number(), label: z.string() });

/** A test tool set: `doc.read` returns document text, `calc.add` adds, `net.flaky` always fails. */
export function testTools(log: Array<{ name: string; args: unknown; ctx: ToolContext }> = []): Tool[] {
  return [
    defineTool({
      name: 'doc.read',
      description: 'Read a document by name',
      input: z.object({ name: z.string() }),
      execute: (args, ctx) => {
        log.push({ name: 'doc.read', args, ctx });
        return `DOCUMENT ${args.name}: revenue was 40 and costs 2.`;
      },
    }),
    defineTool({
      name: 'calc.add',
      description: 'Add two numbers',
      input: z.object({ a: z.number(), b: z.number() }),
      execute: (args, ctx) => {
        log.push({ name: 'calc.add', args, ctx });
        return { sum: args.a + args.b };
      },
    }),
    defineTool({
      name: 'net.flaky',
      description: 'Always fails',
      input: z.object({}),
      execute: (args, ctx) => {
        log.push({ name: 'net.flaky', args, ctx });
        throw new Error('service unavailable');
      },
    }),
  ];
}

export const plan = (...tools: string[]) => `\n${JSON.stringify({ steps: tools.map((tool) => ({ tool, goal: `use ${tool}` })) })}`;
