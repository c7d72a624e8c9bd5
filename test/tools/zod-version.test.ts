/**
 * zod 4 is a peer dependency: a schema built with zod 3 (here the real zod 3.25.76, installed as `zod3`) is refused
 * at every boundary that takes one, with ZodVersionError naming the field, instead of failing deep inside
 * z.toJSONSchema with "Cannot read properties of undefined (reading 'def')".
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod3';
import { ZodVersionError } from '../../src/errors';
import { toGrammarJsonSchema } from '../../src/models/constraints/grammar-json-schema';
import type { Tool } from '../../src/tools/tool';
import { defineTool } from '../../src/tools/define-tool';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { isZod3Schema } from '../../src/zod-version';

const zod3Tool = { name: 'acme.lookup', description: 'looks up', input: z3.object({ q: z3.string() }), execute: async () => 'x' };

describe('zod 3 schemas', () => {
  it('tells zod 3 from zod 4 schemas by their internals', () => {
    expect(isZod3Schema(z3.string())).toBe(true);
    expect(isZod3Schema(z.string())).toBe(false);
    expect(isZod3Schema({ type: 'string' })).toBe(false);
  });

  it('defineTool refuses a zod 3 input schema, naming the tool and field', () => {
    const call = () => defineTool(zod3Tool as unknown as Parameters<typeof defineTool>[0]);
    expect(call).toThrow(ZodVersionError);
    expect(call).toThrow(/defineTool "acme\.lookup": input is a zod 3 schema; autoglm needs zod 4/);
  });

  it('ToolRegistry.register and use() refuse zod 3 tools before anything is registered', async () => {
    const registry = new ToolRegistry();
    expect(() => registry.register(zod3Tool as unknown as Tool)).toThrow(ZodVersionError);
    const output = { ...zod3Tool, input: z.object({ q: z.string() }), output: z3.number() };
    await expect(registry.use({ name: 'acme', version: '1.0.0', tools: [output as unknown as Tool] })).rejects.toMatchObject({
      code: 'ZOD_VERSION',
      message: expect.stringContaining('tool "acme.lookup": output is a zod 3 schema'),
    });
    expect(registry.list()).toEqual([]);
  });

  it('a generation schema from zod 3 is a ZodVersionError, a zod 4 one converts', () => {
    expect(() => toGrammarJsonSchema(z3.object({ a: z3.number() }) as never, 'generate(): schema')).toThrow(ZodVersionError);
    expect(toGrammarJsonSchema(z.object({ a: z.number() }), 'generate(): schema')).toMatchObject({ type: 'object' });
  });
});
