import type { z } from 'zod';
import { assertNotZod3 } from '../zod-version';
import type { Tool, ToolContext } from './tool';

export interface DefineToolOptions<InputSchema extends z.ZodType, OutputSchema extends z.ZodType | undefined> {
  /** A dotted identifier, e.g. `pdf.extract`. */
  name: string;
  description: string;
  input: InputSchema;
  output?: OutputSchema;
  /** Per-call timeout in ms. Defaults to the registry's default. */
  timeoutMs?: number;
  execute(
    args: z.output<InputSchema>,
    ctx: ToolContext,
  ): Promise<OutputSchema extends z.ZodType ? z.input<OutputSchema> : unknown> | (OutputSchema extends z.ZodType ? z.input<OutputSchema> : unknown);
}

/** Declare a tool; argument and result types are inferred from the zod schemas. */
export function defineTool<InputSchema extends z.ZodType, OutputSchema extends z.ZodType | undefined = undefined>(
  options: DefineToolOptions<InputSchema, OutputSchema>,
): Tool<z.output<InputSchema>, OutputSchema extends z.ZodType ? z.output<OutputSchema> : unknown> {
  assertNotZod3(options.input, `defineTool ${JSON.stringify(options.name)}: input`);
  assertNotZod3(options.output, `defineTool ${JSON.stringify(options.name)}: output`);
  return { ...options } as Tool<z.output<InputSchema>, OutputSchema extends z.ZodType ? z.output<OutputSchema> : unknown>;
}
