/**
 * SEAM (lead): a minimal stand-in for the ToolRegistry of src/tools/tool-registry.ts, which is written on another
 * branch. It validates arguments, runs tools with a context, and returns failures as values, enough for the agent to
 * accept `Tool[]`. Once ToolRegistry lands, `toAgentTools` should wrap arrays in `new ToolRegistry(tools, ...)` and
 * this file should go.
 */
import { realpath, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PathOutsideSandboxError } from '../errors';
import type { ToolSpec } from '../models/language-model';
import { silentLogger } from '../observability/logger';
import type { FileAccess, Tool, ToolCallOptions, ToolCaller, ToolResult } from '../tools/tool';

/** What the agent needs from a set of tools: calling them, and their specs for the prompt and the grammar. */
export interface AgentTools extends ToolCaller {
  toolSpecs(): ToolSpec[];
}

export function isAgentTools(value: unknown): value is AgentTools {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AgentTools).call === 'function' &&
    typeof (value as AgentTools).has === 'function' &&
    typeof (value as AgentTools).toolSpecs === 'function'
  );
}

/** A tool's spec as the model sees it. */
export function toolSpecOf(tool: Tool): ToolSpec {
  return {
    name: tool.name,
    description: tool.description,
    parameters: z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as ToolSpec['parameters'],
  };
}

export class AgentToolSet implements AgentTools {
  #tools = new Map<string, Tool>();
  #files: FileAccess;

  /** `roots`: the directories the tools may read and write through `ctx.files`. */
  constructor(tools: Tool[], options: { roots: string[] }) {
    for (const tool of tools) this.#tools.set(tool.name, tool);
    this.#files = sandboxedFiles(options.roots);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  toolSpecs(): ToolSpec[] {
    return [...this.#tools.values()].map(toolSpecOf);
  }

  async call(name: string, args: unknown, options: ToolCallOptions = {}): Promise<ToolResult> {
    const tool = this.#tools.get(name);
    if (tool === undefined) {
      return { ok: false, error: { code: 'TOOL_NOT_FOUND', message: `No tool named "${name}" is registered.` } };
    }
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: 'TOOL_INPUT',
          message: `Arguments of "${name}" do not match its input schema.`,
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        },
      };
    }
    const signal = options.signal ?? new AbortController().signal;
    if (signal.aborted) return { ok: false, error: { code: 'ABORT', message: `"${name}" was cancelled.` } };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<ToolResult>((resolve) => {
      onAbort = () => resolve({ ok: false, error: { code: 'ABORT', message: `"${name}" was cancelled.` } });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const execution = (async (): Promise<ToolResult> => {
      try {
        const value = await tool.execute(parsed.data, {
          signal,
          logger: options.logger ?? silentLogger(),
          files: this.#files,
          model: options.model,
          runId: options.runId,
          stepId: options.stepId,
          idempotencyKey: options.idempotencyKey,
        });
        return { ok: true, value };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'TOOL_EXECUTION';
        return { ok: false, error: { code, message } };
      }
    })();
    try {
      // A tool that ignores its signal must not hold a cancelled run.
      return await Promise.race([execution, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }
}

function sandboxedFiles(roots: string[]): FileAccess {
  const resolve = async (target: string): Promise<string> => {
    const absolute = path.resolve(target);
    let real = absolute;
    try {
      real = await realpath(absolute);
    } catch {
      // A file that does not exist yet (a write) is checked through its directory.
      real = path.join(await realpath(path.dirname(absolute)).catch(() => path.dirname(absolute)), path.basename(absolute));
    }
    for (const root of roots) {
      const realRoot = await realpath(root).catch(() => path.resolve(root));
      const relative = path.relative(realRoot, real);
      if (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)) return real;
    }
    throw new PathOutsideSandboxError(
      `Path "${target}" is outside the directories the agent's tools may use (${roots.join(', ') || 'none'}): pass the file as the run's inputFile, or add its directory to the agent's fileRoots.`,
      { details: { path: target, roots } },
    );
  };
  return {
    resolve,
    readFile: async (target) => new Uint8Array(await readFile(await resolve(target))),
    writeFile: async (target, data) => writeFile(await resolve(target), data),
  };
}
