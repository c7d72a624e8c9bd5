import type { z } from 'zod';
import { assertNotZod3 } from '../zod-version';
import { ToolRegistryError } from '../errors';
import { assertKnownNames } from '../strict-options';
import type { Tool, ToolApprovalPolicy, ToolContext } from './tool';

export interface DefineToolOptions<InputSchema extends z.ZodType, OutputSchema extends z.ZodType | undefined> {
  /** A dotted identifier, e.g. `pdf.extract`. */
  name: string;
  description: string;
  input: InputSchema;
  output?: OutputSchema;
  /** Per-call timeout in ms. Defaults to the registry's default. */
  timeoutMs?: number;
  /**
   * A person approves each call the model makes before it runs: `true`, or `(args, { callId }) => boolean` (may be
   * async) to decide per call. The agent pauses with finishReason `approval-required`. Defaults to false.
   */
  needsApproval?: ToolApprovalPolicy<z.output<InputSchema>>;
  execute(
    args: z.output<InputSchema>,
    ctx: ToolContext,
  ): Promise<OutputSchema extends z.ZodType ? z.input<OutputSchema> : unknown> | (OutputSchema extends z.ZodType ? z.input<OutputSchema> : unknown);
}

/** Every name DefineToolOptions has; the `satisfies` keeps this list in step with the interface. */
const defineToolOptionNames = Object.keys({
  name: true,
  description: true,
  input: true,
  output: true,
  timeoutMs: true,
  needsApproval: true,
  execute: true,
} satisfies Record<keyof DefineToolOptions<z.ZodType, undefined>, true>);

/** Declare a tool; argument and result types are inferred from the zod schemas. */
export function defineTool<InputSchema extends z.ZodType, OutputSchema extends z.ZodType | undefined = undefined>(
  options: DefineToolOptions<InputSchema, OutputSchema>,
): Tool<z.output<InputSchema>, OutputSchema extends z.ZodType ? z.output<OutputSchema> : unknown> {
  assertKnownNames(options, defineToolOptionNames, { where: `defineTool ${JSON.stringify(options?.name)}`, error: ToolRegistryError });
  assertNotZod3(options.input, `defineTool ${JSON.stringify(options.name)}: input`);
  assertNotZod3(options.output, `defineTool ${JSON.stringify(options.name)}: output`);
  return { ...options } as Tool<z.output<InputSchema>, OutputSchema extends z.ZodType ? z.output<OutputSchema> : unknown>;
}
