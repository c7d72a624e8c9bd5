/**
 * The agent on a tiny ChatGLM3 model (createTinyGlm family 'chatglm'): ChatGLM3's own format end to end. Prompt ids
 * built as its tokenizer builds them, tools on the system message, calls as a name line and a python
 * `tool_call(...)` block (grammar-constrained), observations in the observation role, stops on its role tokens.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentResult } from '../../src/agent/agent-events';
import { AutoAgent } from '../../src/agent/auto-agent';
import { GlmModel } from '../../src/models/glm-model';
import { defineTool } from '../../src/tools/define-tool';
import { RecordingModel } from '../support/recording-model';
import { useTinyModelDirectory } from './onnx-helpers';

const tools = [
  defineTool({
    name: 'ledger.read',
    description: 'Read the ledger entry of a month',
    input: z.object({ month: z.number().int().min(1).max(12), currency: z.enum(['USD', 'EUR']).optional() }),
    execute: ({ month }) => ({ month, amount: month * 100 }),
  }),
  defineTool({
    name: 'ledger.note',
    description: 'Attach a note',
    input: z.object({ text: z.string().max(20) }),
    execute: ({ text }) => `noted: ${text}`,
  }),
];

describe('AutoAgent on a tiny ChatGLM3 model', () => {
  const tiny = useTinyModelDirectory('agent-chatglm3', { family: 'chatglm', seed: 4, maxPositionEmbeddings: 2048 });

  it('uses the ChatGLM3 format and makes valid python tool_call calls', async () => {
    const model = await GlmModel.load(tiny.directory, { threads: 1 });
    try {
      expect(model.info.family).toBe('chatglm');
      expect(model.chatFormat).toMatchObject({ name: 'chatglm3', tools: 'system-message', callArguments: 'python-tool-call', observationRole: 'observation', parallelCallSeparator: undefined });
      const recording = new RecordingModel(model, {
        recordPromptIds: true,
        adjustOptions: (options) => (options.tools && options.toolChoice === undefined ? { ...options, toolChoice: 'required' } : options),
      });
      const run = (seed: number) =>
        new AutoAgent({
          task: 'Read the ledger of the first quarter.',
          model: recording,
          tools,
          maxSteps: 4,
          plan: false,
          generation: { temperature: 1, maxNewTokens: 120 },
        }).run('First quarter?', { seed });
      let result: AgentResult | undefined;
      for (let seed = 0; seed < 8 && (result === undefined || result.steps.filter((step) => step.toolCall && step.result?.ok).length < 2); seed++) {
        recording.generations.length = 0;
        result = await run(seed);
      }
      const calls = result!.steps.filter((step) => step.kind === 'tool');
      expect(calls.length).toBeGreaterThanOrEqual(2);
      for (const step of calls) {
        expect(step.toolCall?.name).toMatch(/^ledger\.(read|note)$/);
        expect(step.result?.ok === false ? step.result.error.code : 'ok').not.toBe('TOOL_CALL_FORMAT');
        // What the model wrote is ChatGLM3's call text.
        expect(step.text).toMatch(/^ledger\.(read|note)\n```python\ntool_call\(.*\)\n```/s);
      }
      // Nothing dropped: the last prompt starts with [gMASK] sop, carries the tools as JSON on the system message,
      // every call (name line + python block) and every observation.
      const ids = recording.generations.at(-1)!.promptIds!;
      expect(model.tokenizer.decode(ids.slice(0, 2))).toBe('[gMASK]sop');
      const lastPrompt = model.tokenizer.decode(ids);
      expect(lastPrompt).toContain('"name": "ledger.read"');
      // The agent's instructions describe ChatGLM3's call layout, not JSON arguments.
      expect(lastPrompt).toContain("a ```python block with tool_call(name='value', ...)");
      // (Decoded, each separately encoded piece shows SentencePiece's dummy-prefix space, as ChatGLM3's decode does.)
      for (const step of calls) {
        expect(lastPrompt).toContain(`<|assistant|> ${step.toolCall!.name}\n \`\`\`python\ntool_call(`);
        const observation = step.result?.ok && step.toolCall!.name === 'ledger.read' ? JSON.stringify(step.result.value) : undefined;
        if (observation !== undefined) expect(lastPrompt).toContain(`<|observation|> \n ${observation}`);
      }
    } finally {
      await model.dispose();
    }
  }, 240_000);
});
