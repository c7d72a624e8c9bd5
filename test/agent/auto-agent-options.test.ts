import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutoAgent } from '../../src/agent/auto-agent';
import type { AutoAgentOptions } from '../../src/agent/auto-agent-options';
import { AgentError, AutoglmError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { ScriptedModel } from '../support/scripted-model';
import { testTools } from './helpers';

const model = new ScriptedModel([]);
const make = (options: unknown) => () => new AutoAgent(options as AutoAgentOptions);

describe('AutoAgent options validation', () => {
  it.each([
    [{ model }, /task: /],
    [{ task: '  ', model }, /task: task must not be empty/],
    [{ task: 'T' }, /`model` is missing/],
    [{ task: 'T', modelPath: '/m' }, /AutoAgent options: unknown option "modelPath" \(did you mean "model"\?\)/],
    [{ task: 'T', model, fileRoots: ['/r'] }, /AutoAgent options: unknown option "fileRoots" \(did you mean "roots"\?\)/],
    [{ task: 'T', model, roots: [''] }, /roots\.0: roots must not hold an empty path/],
    [{ task: 'T', model: { generate() {} } }, /model: model must be a LanguageModel/],
    [{ task: 'T', model, maxSteps: 0 }, /maxSteps: maxSteps must be >= 1/],
    [{ task: 'T', model, maxSteps: 2.5 }, /maxSteps: maxSteps must be an integer/],
    [{ task: 'T', model, context: { maxTurns: -1 } }, /context\.maxTurns: context\.maxTurns must be >= 1/],
    [{ task: 'T', model, context: { maxTokns: 5 } }, /AutoAgent options.context: unknown option "maxTokns" \(did you mean "maxTokens"\?\)/],
    [{ task: 'T', model, tools: [{ name: 'x' }] }, /tools: tools must be a ToolRegistry/],
    [{ task: 'T', model, schema: { parse() {} } }, /schema: schema must be a zod schema/],
    [{ task: 'T', model, output: z.string() }, /AutoAgent options: unknown option "output" \(did you mean "schema"\?\)/],
    [{ task: 'T', model, generation: { temperature: -1 } }, /generation\.temperature: generation\.temperature must be >= 0/],
    [{ task: 'summarise_financial_report', model }, /not a known preset \(summarize_financial_report\)/],
  ])('rejects %j', (options, message) => {
    expect(make(options)).toThrow(AgentError);
    expect(make(options)).toThrow(message);
  });

  it('rejects duplicate tool names and a preset whose tools are missing', () => {
    const [read] = testTools();
    expect(make({ task: 'T', model, tools: [read, read] })).toThrow(/two tools are named "doc\.read"/);
    const extract = defineTool({ name: 'pdf.extract', description: 'x', input: z.object({}), execute: () => '' });
    expect(make({ task: 'summarize_financial_report', model, tools: [extract] })).toThrow(/lacks pdf\.search/);
  });

  it('rejects bad run input and a second concurrent run', async () => {
    const agent = new AutoAgent({ task: 'T', model: new ScriptedModel([() => '\nok']) });
    await expect(agent.run(null as never)).rejects.toThrow(/input must be a string, \{ inputFile \}, or an object; got null/);
    await expect(agent.run({ inputFile: '' })).rejects.toThrow(/inputFile must be a non-empty file path/);
    const slowModel = new ScriptedModel([], { fallback: '\nslow answer' });
    const busy = new AutoAgent({ task: 'T', model: slowModel });
    const first = busy.run('one');
    await expect(busy.run('two')).rejects.toThrow(/a run is already in progress/);
    await expect(first).resolves.toMatchObject({ output: 'slow answer' });
  });
});

describe('AutoAgent model ownership', () => {
  it('loads a model directory once, lazily, and disposes it with the agent', async () => {
    const loaded: string[] = [];
    const scripted = new ScriptedModel([], { fallback: '\nanswer' });
    const agent = new AutoAgent({
      task: 'T',
      model: '/models/glm-edge',
      loadModel: async (directory) => {
        loaded.push(directory);
        return scripted;
      },
    });
    expect(loaded).toEqual([]);
    await agent.run('a');
    await agent.run('b');
    expect(loaded).toEqual(['/models/glm-edge']);
    await agent.dispose();
    expect(scripted.disposed).toBe(true);
    await expect(agent.run('c')).rejects.toThrow(/disposed/);
  });

  it('does not dispose a model it was given', async () => {
    const scripted = new ScriptedModel([], { fallback: '\nanswer' });
    const agent = new AutoAgent({ task: 'T', model: scripted });
    await agent.run('a');
    await agent[Symbol.asyncDispose]();
    expect(scripted.disposed).toBe(false);
  });

  it('reports a model directory it cannot load with a typed error', async () => {
    const agent = new AutoAgent({ task: 'T', model: '/no/such/model/dir' });
    const error = await agent.run('a').catch((caught: unknown) => caught);
    // AgentError while GlmModel is not merged; the engine's ModelLoadError once it is.
    expect(AutoglmError.isInstance(error)).toBe(true);
    expect(['AGENT', 'MODEL_LOAD']).toContain((error as AutoglmError).code);
  });
});
