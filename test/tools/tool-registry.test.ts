import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DocumentError, ToolRegistryError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import type { ToolContext } from '../../src/tools/tool';
import { ScriptedModel } from '../support/scripted-model';

const add = defineTool({
  name: 'math.add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number().describe('second addend') }),
  output: z.object({ sum: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

const echo = defineTool({
  name: 'echo',
  description: 'Echoes the items.',
  input: z.object({ items: z.array(z.object({ id: z.number().int(), label: z.string().min(1) })) }),
  execute: ({ items }) => items,
});

function expectFailure(result: Awaited<ReturnType<ToolRegistry['call']>>) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('ToolRegistry registration', () => {
  it('registers, gets, lists and reports tools', () => {
    const registry = new ToolRegistry([add]);
    registry.register(echo);
    expect(registry.has('math.add')).toBe(true);
    expect(registry.has('nope')).toBe(false);
    expect(registry.get('echo')).toBe(echo);
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.list().map((tool) => tool.name)).toEqual(['math.add', 'echo']);
  });

  it('refuses a duplicate name, naming both sources', () => {
    const registry = new ToolRegistry([add]);
    const error = (() => {
      try {
        registry.register({ ...add, description: 'another adder' });
      } catch (caught) {
        return caught as ToolRegistryError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ToolRegistryError);
    expect(error.code).toBe('TOOL_REGISTRY');
    expect(error.message).toContain('"math.add"');
    expect(error.message).toContain('register()');
    expect(error.message).toContain('the ToolRegistry constructor');
    expect(registry.get('math.add')).toBe(add);
  });

  it.each(['', 'has space', 'pdf..extract', '.pdf', 'pdf.', '1abc', 'pdf-extract', 'a/b'])(
    'refuses the tool name %j',
    (name) => {
      expect(() => new ToolRegistry([{ ...add, name }])).toThrow(/dotted identifier/);
    },
  );

  it('accepts dotted identifiers', () => {
    const registry = new ToolRegistry(['pdf.extract', 'files.read', 'acme_finance.keyFigures', 'x'].map((name) => ({ ...add, name })));
    expect(registry.list()).toHaveLength(4);
  });

  it('refuses a tool without a zod input or execute', () => {
    expect(() => new ToolRegistry([{ name: 'bad', description: '', input: {} as never, execute: () => 1 }])).toThrow(/input must be a zod schema/);
    expect(() => new ToolRegistry([{ name: 'bad', description: '', input: z.object({}) } as never])).toThrow(/execute must be a function/);
    expect(() => new ToolRegistry([], { defaultTimeoutMs: 0 })).toThrow(ToolRegistryError);
  });

  it('gives the JSON Schema of each input for prompts and grammars', () => {
    const specs = new ToolRegistry([add, echo]).toolSpecs();
    expect(specs).toHaveLength(2);
    expect(specs[0]).toEqual({
      name: 'math.add',
      description: 'Adds two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number', description: 'second addend' } },
        required: ['a', 'b'],
      },
    });
    const items = (specs[1].parameters as any).properties.items;
    expect(items.type).toBe('array');
    expect(items.items.properties.id.type).toBe('integer');
    expect(items.items.properties.label).toEqual({ type: 'string', minLength: 1 });
  });

  it('marks defaulted fields as optional in the input schema', () => {
    const tool = defineTool({
      name: 'defaults',
      description: '',
      input: z.object({ path: z.string(), limit: z.number().default(5) }),
      execute: (args) => args,
    });
    const [spec] = new ToolRegistry([tool]).toolSpecs();
    expect(spec.parameters.required).toEqual(['path']);
    expect((spec.parameters as any).properties.limit.default).toBe(5);
  });
});

describe('ToolRegistry.call', () => {
  it('returns the value of a valid call, parsed by the output schema', async () => {
    const result = await new ToolRegistry([add]).call('math.add', { a: 2, b: 3 });
    expect(result).toEqual({ ok: true, value: { sum: 5 } });
  });

  it('returns an unknown tool as TOOL_NOT_FOUND listing the available tools', async () => {
    const error = expectFailure(await new ToolRegistry([add, echo]).call('math.sub', { a: 1, b: 2 }));
    expect(error.code).toBe('TOOL_NOT_FOUND');
    expect(error.message).toContain('math.sub');
    expect(error.message).toContain('math.add, echo');
  });

  it('returns invalid arguments as TOOL_INPUT with the path of each issue', async () => {
    let executed = false;
    const tool = { ...echo, execute: () => (executed = true) };
    const error = expectFailure(await new ToolRegistry([tool]).call('echo', { items: [{ id: 1, label: 'x' }, { id: 1.5, label: '' }] }));
    expect(executed).toBe(false);
    expect(error.code).toBe('TOOL_INPUT');
    expect(error.issues?.map((issue) => issue.path)).toEqual(['items[1].id', 'items[1].label']);
    expect(error.message).toContain('items[1].id');
    expect(error.message).toMatch(/Fix these arguments/);
  });

  it('reports a wrong type and missing fields', async () => {
    const error = expectFailure(await new ToolRegistry([add]).call('math.add', { a: '2' }));
    expect(error.issues).toEqual([
      { path: 'a', message: expect.stringMatching(/expected number, received string/) },
      { path: 'b', message: expect.stringMatching(/expected number, received undefined/) },
    ]);
    const whole = expectFailure(await new ToolRegistry([add]).call('math.add', 'a=2'));
    expect(whole.issues?.[0].path).toBe('(arguments)');
  });

  it('treats missing arguments as an empty object', async () => {
    const noArgs = defineTool({ name: 'clock.now', description: '', input: z.object({}), execute: () => 'now' });
    expect(await new ToolRegistry([noArgs]).call('clock.now', undefined)).toEqual({ ok: true, value: 'now' });
  });

  it('returns a thrown error as TOOL_EXECUTION, and an AutoglmError with its own code', async () => {
    const registry = new ToolRegistry([
      defineTool({ name: 'fails', description: '', input: z.object({}), execute: () => { throw new Error('disk on fire'); } }),
      defineTool({ name: 'fails.typed', description: '', input: z.object({}), execute: async () => { throw new DocumentError('report.pdf is encrypted'); } }),
      defineTool({ name: 'fails.string', description: '', input: z.object({}), execute: () => { throw 'plain string'; } }),
    ]);
    const plain = expectFailure(await registry.call('fails', {}));
    expect(plain).toEqual({ code: 'TOOL_EXECUTION', message: 'Tool "fails" failed: disk on fire' });
    expect(expectFailure(await registry.call('fails.typed', {}))).toEqual({ code: 'DOCUMENT', message: 'report.pdf is encrypted' });
    expect(expectFailure(await registry.call('fails.string', {})).message).toContain('plain string');
  });

  it('validates the output and reports a mismatch as a defect of the tool', async () => {
    const liar = defineTool({
      name: 'liar',
      description: '',
      input: z.object({}),
      output: z.object({ total: z.number() }),
      execute: () => ({ total: 'many' }) as never,
    });
    const error = expectFailure(await new ToolRegistry([liar]).call('liar', {}));
    expect(error.code).toBe('TOOL_EXECUTION');
    expect(error.issues?.[0].path).toBe('total');
    expect(error.message).toMatch(/output schema/);
  });

  it('aborts the tool signal on timeout, and the tool observes it', async () => {
    let observed: unknown;
    const slow = defineTool({
      name: 'slow',
      description: '',
      input: z.object({}),
      timeoutMs: 30,
      execute: (_args, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            observed = ctx.signal.reason;
            reject(new Error('stopped'));
          });
        }),
    });
    const error = expectFailure(await new ToolRegistry([slow]).call('slow', {}));
    expect(error.code).toBe('TOOL_TIMEOUT');
    expect(error.message).toContain('30 ms');
    expect((observed as Error).name).toBe('ToolTimeoutError');
  });

  it('returns on timeout even when the tool ignores its signal', async () => {
    let ctxSignal: AbortSignal | undefined;
    const stubborn = defineTool({
      name: 'stubborn',
      description: '',
      input: z.object({}),
      execute: (_args, ctx) => {
        ctxSignal = ctx.signal;
        return new Promise(() => {});
      },
    });
    const error = expectFailure(await new ToolRegistry([stubborn], { defaultTimeoutMs: 20 }).call('stubborn', {}));
    expect(error.code).toBe('TOOL_TIMEOUT');
    expect(ctxSignal?.aborted).toBe(true);
  });

  it('lets the call override the timeout', async () => {
    const wait = defineTool({
      name: 'wait',
      description: '',
      input: z.object({}),
      timeoutMs: 10,
      execute: (_args, ctx) => new Promise((resolve) => setTimeout(() => resolve(ctx.signal.aborted ? 'aborted' : 'done'), 50)),
    });
    expect(await new ToolRegistry([wait]).call('wait', {}, { timeoutMs: 5_000 })).toEqual({ ok: true, value: 'done' });
  });

  it('honours the caller signal: ABORT, and the tool signal is aborted', async () => {
    const controller = new AbortController();
    let toolSignal: AbortSignal | undefined;
    const registry = new ToolRegistry([]);
    const started = new Promise<void>((resolveStarted) => {
      const hang = defineTool({
        name: 'hang',
        description: '',
        input: z.object({}),
        execute: (_args, ctx) => {
          toolSignal = ctx.signal;
          resolveStarted();
          return new Promise(() => {});
        },
      });
      registry.register(hang);
    });
    const pending = registry.call('hang', {}, { signal: controller.signal });
    await started;
    controller.abort(new Error('user pressed stop'));
    const error = expectFailure(await pending);
    expect(error.code).toBe('ABORT');
    expect(error.message).toContain('user pressed stop');
    expect(toolSignal?.aborted).toBe(true);
  });

  it('does not run a tool when the caller signal is already aborted', async () => {
    let ran = false;
    const tool = defineTool({ name: 'never', description: '', input: z.object({}), execute: () => (ran = true) });
    const error = expectFailure(await new ToolRegistry([tool]).call('never', {}, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('ABORT');
    expect(ran).toBe(false);
  });

  it('gives the tool a context with model, files, logger and call identifiers', async () => {
    let seen: ToolContext | undefined;
    const spy = defineTool({ name: 'spy', description: '', input: z.object({}), execute: (_args, ctx) => { seen = ctx; return null; } });
    const model = new ScriptedModel([]);
    const other = new ScriptedModel([]);
    const registry = new ToolRegistry([spy], { model });
    await registry.call('spy', {}, { runId: 'r1', stepId: 's1', idempotencyKey: 'r1:s1:0' });
    expect(seen?.model).toBe(model);
    expect(seen?.files).toBe(registry.files);
    expect([seen?.runId, seen?.stepId, seen?.idempotencyKey]).toEqual(['r1', 's1', 'r1:s1:0']);
    expect(seen?.logger.bindings()).toMatchObject({ tool: 'spy', runId: 'r1', stepId: 's1' });
    await registry.call('spy', {}, { model: other });
    expect(seen?.model).toBe(other);
  });

  it('refuses all file access when no roots are configured', async () => {
    const registry = new ToolRegistry([]);
    await expect(registry.files.readFile('/etc/hostname')).rejects.toMatchObject({ code: 'PATH_OUTSIDE_SANDBOX' });
  });
});
