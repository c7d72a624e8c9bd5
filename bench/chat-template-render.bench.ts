/**
 * What the bounded template renderer costs (chat templates render in a worker thread with time and heap limits,
 * bounded-template-renderer.ts) against rendering on the calling thread, per render of a real template.
 *
 * Run: npx tsx bench/chat-template-render.bench.ts   (a few seconds)
 */
import { readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import { ChatTemplate } from '../src/models/chat-format/chat-template';

const text = readFileSync(new URL('../test/fixtures/chat-templates/xinference-glm4-0414.jinja', import.meta.url), 'utf8');
const { conversations, tools } = JSON.parse(readFileSync(new URL('../test/fixtures/chat-templates/conversations.json', import.meta.url), 'utf8'));
const ctx = {
  messages: conversations['tools-calls-observations'].messages,
  tools: (tools as Array<Record<string, unknown>>).map((tool) => ({ type: 'function', function: tool })),
  add_generation_prompt: true,
};
const bounded = new ChatTemplate(text, { source: 'x' });
const inProcess = new Template(text);
bounded.render(ctx);
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const a: number[] = [], b: number[] = [];
for (let i = 0; i < 300; i++) {
  let t = performance.now(); bounded.render(ctx); a.push(performance.now() - t);
  t = performance.now(); inProcess.render(ctx); b.push(performance.now() - t);
}
console.log(`render median: bounded worker ${median(a).toFixed(3)} ms, in-process ${median(b).toFixed(3)} ms (300 renders each, GLM-4-0414 template, 6 messages + 2 tools)`);
