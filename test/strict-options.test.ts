import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentError, AutoAgent, defineTool, GenerationError, ToolRegistry, ToolRegistryError, Workflow, WorkflowSpecError } from '../src/index';
import { assertKnownNames, assertOneOf, didYouMean } from '../src/strict-options';
import { ScriptedModel } from './support/scripted-model';

describe('didYouMean', () => {
  const generate = ['maxNewTokens', 'temperature', 'topK', 'topP', 'stop', 'signal', 'schema', 'seed'];

  it('maps the names other libraries use to ours', () => {
    expect(didYouMean('maxTokens', generate)).toBe('maxNewTokens');
    expect(didYouMean('max_tokens', generate)).toBe('maxNewTokens');
    expect(didYouMean('stopSequences', generate)).toBe('stop');
    expect(didYouMean('abortSignal', generate)).toBe('signal');
    expect(didYouMean('tool', ['system', 'user', 'assistant', 'observation'])).toBe('observation');
  });

  it('finds case, underscore and small spelling variants, and nothing for unrelated names', () => {
    expect(didYouMean('top_k', generate)).toBe('topK');
    expect(didYouMean('temprature', generate)).toBe('temperature');
    expect(didYouMean('maxStpes', ['maxSteps', 'task'])).toBe('maxSteps');
    expect(didYouMean('completelyDifferent', generate)).toBeUndefined();
  });
});

describe('assertKnownNames / assertOneOf', () => {
  it('names every unknown field, where it was, the allowed names and the nearest', () => {
    let caught: unknown;
    try {
      assertKnownNames({ maxTokens: 5, stopSequences: [], temperature: 0 }, ['maxNewTokens', 'stop', 'temperature'], { where: 'generate options', error: GenerationError });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GenerationError);
    const error = caught as GenerationError;
    expect(error.message).toContain('generate options: unknown option "maxTokens" (did you mean "maxNewTokens"?); allowed: maxNewTokens, stop, temperature.');
    expect(error.message).toContain('unknown option "stopSequences" (did you mean "stop"?)');
    expect(error.details).toMatchObject({ unknown: ['maxTokens', 'stopSequences'], suggestions: ['maxNewTokens', 'stop'] });
  });

  it('counts a name written with the value undefined (it was still written by mistake)', () => {
    expect(() => assertKnownNames({ abortSignal: undefined }, ['signal'], { where: 'x', error: GenerationError })).toThrow(/did you mean "signal"/);
  });

  it('assertOneOf refuses values outside the set', () => {
    expect(() => assertOneOf('webgpu', ['cpu', 'cuda'], { where: 'GlmModel.load options', field: 'executionProvider', error: GenerationError })).toThrow(
      'GlmModel.load options: executionProvider "webgpu" is not supported; use one of cpu, cuda.',
    );
    expect(() => assertOneOf('cpu', ['cpu', 'cuda'], { where: 'x', field: 'f', error: GenerationError })).not.toThrow();
  });
});

describe('strict options at the public boundaries (no model needed)', () => {
  it('AutoAgent options and run options', async () => {
    const model = new ScriptedModel([() => '\nok']);
    expect(() => new AutoAgent({ task: 'T', model, maxStpes: 3 } as never)).toThrow(/AutoAgent options: unknown option "maxStpes" \(did you mean "maxSteps"\?\)/);
    expect(() => new AutoAgent({ task: 'T', model, generation: { maxTokens: 9 } } as never)).toThrow(AgentError);
    expect(() => new AutoAgent({ task: 'T', model, generation: { maxTokens: 9 } } as never)).toThrow(/generation: unknown option "maxTokens" \(did you mean "maxNewTokens"\?\)/);
    const agent = new AutoAgent({ task: 'T', model });
    await expect(agent.run('hi', { abortSignal: new AbortController().signal } as never)).rejects.toThrow(
      /AutoAgent run options: unknown option "abortSignal" \(did you mean "signal"\?\)/,
    );
  });

  it('ToolRegistry options', () => {
    expect(() => new ToolRegistry([], { fileRoots: ['/tmp'] } as never)).toThrow(ToolRegistryError);
    expect(() => new ToolRegistry([], { fileRoots: ['/tmp'] } as never)).toThrow(/unknown option "fileRoots" \(did you mean "roots"\?\)/);
    expect(() => new ToolRegistry([], { root: ['/tmp'] } as never)).toThrow(/unknown option "root" \(did you mean "roots"\?\)/);
  });

  it('Workflow.run options and undeclared inputs', async () => {
    const echo = defineTool({ name: 'echo', description: 'echo', input: z.object({ text: z.string() }), execute: ({ text }) => text });
    const tools = new ToolRegistry([echo]);
    const workflow = Workflow.define({
      name: 'strict',
      inputs: { company: { type: 'string' } },
      steps: [{ id: 'a', uses: 'echo', with: { text: '${{ inputs.company }}' } }],
    });
    await expect(workflow.run({ tools, input: { company: 'x' } } as never)).rejects.toThrow(/unknown option "input" \(did you mean "inputs"\?\)/);
    await expect(workflow.run({ tools, inputs: { company: 'x', compnay: 'y' } })).rejects.toThrow(WorkflowSpecError);
    await expect(workflow.run({ tools, inputs: { company: 'x', compnay: 'y' } })).rejects.toThrow(
      /Workflow "strict": unknown input "compnay" \(did you mean "company"\?\); allowed: company\. Declare it under `inputs:`/,
    );
    await expect(workflow.run({ tools, inputs: { company: 'x' } })).resolves.toMatchObject({ status: 'succeeded', outputs: { a: 'x' } });
  });
});
