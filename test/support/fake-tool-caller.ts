/**
 * A minimal ToolCaller over `defineTool` objects, for testing the workflow and agent layers while the real
 * ToolRegistry is built elsewhere: arguments are validated with the tool's zod schema (TOOL_INPUT), unknown names
 * give TOOL_NOT_FOUND, and a throwing tool gives TOOL_EXECUTION, all as values. Every call is recorded.
 */
import type { Tool, ToolCallOptions, ToolCaller, ToolResult } from '../../src/tools/tool';
import { silentLogger } from '../../src/observability/logger';

export interface FakeToolCall {
  name: string;
  args: unknown;
  options: ToolCallOptions;
}

export class FakeToolCaller implements ToolCaller {
  readonly calls: FakeToolCall[] = [];
  readonly #tools = new Map<string, Tool>();

  constructor(tools: Tool[]) {
    for (const tool of tools) this.#tools.set(tool.name, tool);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  async call(name: string, args: unknown, options: ToolCallOptions = {}): Promise<ToolResult> {
    this.calls.push({ name, args, options });
    const tool = this.#tools.get(name);
    if (tool === undefined) return { ok: false, error: { code: 'TOOL_NOT_FOUND', message: `No tool named "${name}".` } };
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: 'TOOL_INPUT',
          message: `Invalid arguments for "${name}": ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      };
    }
    try {
      const value = await tool.execute(parsed.data, {
        signal: options.signal ?? new AbortController().signal,
        logger: options.logger ?? silentLogger(),
        files: {
          resolve: async () => {
            throw new Error('no file access in FakeToolCaller');
          },
          readFile: async () => {
            throw new Error('no file access in FakeToolCaller');
          },
          writeFile: async () => {
            throw new Error('no file access in FakeToolCaller');
          },
        },
        model: options.model,
        idempotencyKey: options.idempotencyKey,
        runId: options.runId,
        stepId: options.stepId,
      });
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: { code: 'TOOL_EXECUTION', message: error instanceof Error ? error.message : String(error) } };
    }
  }
}
