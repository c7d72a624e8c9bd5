// Compiled with `tsc --strict` (module nodenext) against the installed package's declarations, ESM and CJS.
import { GlmModel, ToolRegistry, defineTool, Workflow, type GenerateResult, type WorkflowRunResult } from 'autoglm';
import { AutoAgent, type AgentResult } from 'autoglm/agent';
import { type LanguageModel } from 'autoglm/models';
import { ScriptedModel } from 'autoglm/testing';
import { z } from 'zod';

const tool = defineTool({
  name: 'math.double',
  description: 'doubles',
  input: z.object({ n: z.number() }),
  output: z.number(),
  execute: ({ n }) => n * 2, // n: number, inferred
});
const tools = new ToolRegistry([tool]);
const model: LanguageModel = new ScriptedModel(['{"answer": 1}']);
const agent = new AutoAgent({ task: 'answer', model, tools, schema: z.object({ answer: z.number() }) });
export async function typed(): Promise<[GenerateResult, AgentResult, WorkflowRunResult]> {
  const glm = await GlmModel.load('./tiny', { executionProvider: 'cpu' });
  const generated = await glm.generate('hi', { maxNewTokens: 1 });
  const answered = await agent.run('question');
  const run = await Workflow.define({ name: 'w', steps: [{ id: 'a', uses: 'math.double', with: { n: 2 } }] }).run({ tools });
  return [generated, answered, run];
}
// @ts-expect-error: the tool's input is typed from its zod schema
defineTool({ name: 'x.y', description: '', input: z.object({ n: z.number() }), execute: ({ m }) => m });
