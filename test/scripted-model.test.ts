import { describe, expect, it } from 'vitest';
import { ScriptedModel } from './support/scripted-model';

describe('ScriptedModel (test support)', () => {
  it('replies in order, records GLM-shaped prompts, and honours maxNewTokens and abort', async () => {
    const model = new ScriptedModel(['pdf.extract\n{"path":"a.pdf"}', (call) => `\nsaw ${call.prompt.length}`]);
    const first = await model.generate([{ role: 'user', content: 'hi' }], {
      tools: [{ name: 'pdf.extract', description: 'Extract', parameters: { type: 'object' } }],
    });
    expect(first.text).toBe('pdf.extract\n{"path":"a.pdf"}');
    expect(model.calls[0]!.prompt).toContain('<|user|>\nhi<|assistant|>');
    expect(model.calls[0]!.prompt).toContain('## pdf.extract');
    const second = await model.generate('abc', { maxNewTokens: 3 });
    expect(second.finishReason).toBe('length');
    expect(second.tokenIds).toHaveLength(3);
    const controller = new AbortController();
    controller.abort();
    const model2 = new ScriptedModel(['xyz']);
    expect((await model2.generate('p', { signal: controller.signal })).finishReason).toBe('abort');
    await expect(model2.generate('p')).rejects.toThrow(/no reply scripted/);
  });
});
