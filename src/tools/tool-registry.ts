/**
 * The registry that agents and workflows dispatch tool calls to. `call` never throws for a tool's failure: invalid
 * arguments, unknown tools, timeouts, aborts and thrown errors all come back as `{ ok: false, error }` values whose
 * messages a small model can act on.
 */
import { z } from 'zod';
import {
  AbortError,
  AutoglmError,
  PluginLoadError,
  ToolExecutionError,
  ToolInputError,
  ToolNotFoundError,
  ToolRegistryError,
  ToolTimeoutError,
} from '../errors';
import { isToolName, toolNameRule } from '../models/chat-format/chat-format';
import type { JsonSchema, LanguageModel, ToolSpec } from '../models/language-model';
import { silentLogger, type Logger } from '../observability/logger';
import { assertKnownNames } from '../strict-options';
import { maxTimerDelayMs, withDeadline } from '../with-deadline';
import { FileSandbox } from './file-sandbox';
import { assertNotZod3 } from '../zod-version';
import { loadPlugin, validatePlugin, type Plugin } from './plugin';
import { checkMcpServerOptions, McpSession, type McpServerOptions } from './mcp/mcp-client';
import type { FileAccess, Tool, ToolApprovalContext, ToolApprovalPolicy, ToolCallOptions, ToolCaller, ToolContext, ToolError, ToolResult } from './tool';

export interface ToolRegistryOptions {
  /**
   * Directories the tools' file access (`ctx.files`) may use; relative paths given to tools resolve against the
   * first. Defaults to none: every file access is refused until roots are given.
   */
  roots?: string[];
  /** Let tools write files inside the roots (`files.write`). Defaults to false. */
  allowWrites?: boolean;
  /** With `allowWrites`, the only folders tools may write in (an output folder); `roots` stay readable. Defaults to `roots`. */
  writeRoots?: string[];
  /** A custom file access for `ctx.files`, replacing the sandbox built from `roots`. Defaults to that sandbox. */
  files?: FileAccess;
  /** Timeout of a call when neither the call nor the tool sets one, in ms. Defaults to 60 000. */
  defaultTimeoutMs?: number;
  /** Parent of each call's logger (a child carrying the tool name). Defaults to a silent logger. */
  logger?: Logger;
  /** The model tools see as `ctx.model` unless a call passes its own. Defaults to none. */
  model?: LanguageModel;
  /**
   * Approval policies by tool name, replacing the tools' own `needsApproval` for the calls an agent makes through
   * this registry: `{ 'files.write': false }` lets a trusted setup write without asking; `{ 'mcp.TOOL': true }` asks
   * before a tool that has no policy of its own. A name no registered tool has is a ToolRegistryError at the first
   * approval check. Defaults to none (each tool's own policy; `files.write` asks).
   */
  needsApproval?: Record<string, ToolApprovalPolicy>;
}

interface Entry {
  tool: Tool;
  source: string;
  spec?: ToolSpec;
}

/** Every name ToolRegistryOptions has; the `satisfies` keeps this list in step with the interface. */
const registryOptionNames = Object.keys({
  roots: true,
  allowWrites: true,
  writeRoots: true,
  files: true,
  defaultTimeoutMs: true,
  logger: true,
  model: true,
  needsApproval: true,
} satisfies Record<keyof ToolRegistryOptions, true>);

export class ToolRegistry implements ToolCaller {
  readonly files: FileAccess;
  #tools = new Map<string, Entry>();
  #defaultTimeoutMs: number;
  #logger: Logger;
  #model: LanguageModel | undefined;
  #mcpSessions: McpSession[] = [];
  #approvalOverrides: ReadonlyMap<string, ToolApprovalPolicy>;

  constructor(tools: Tool[] = [], options: ToolRegistryOptions = {}) {
    if (!Array.isArray(tools)) {
      throw new ToolRegistryError('ToolRegistry: the first argument must be an array of tools (use [] for none).');
    }
    assertKnownNames(options, registryOptionNames, { where: 'ToolRegistry options', error: ToolRegistryError });
    const defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    checkTimeout(defaultTimeoutMs, 'ToolRegistry option defaultTimeoutMs');
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#logger = options.logger ?? silentLogger();
    this.#model = options.model;
    this.files = options.files ?? new FileSandbox({
        roots: options.roots ?? [],
        allowWrites: options.allowWrites,
        ...(options.writeRoots === undefined ? {} : { writeRoots: options.writeRoots }),
      });
    this.#approvalOverrides = checkApprovalOverrides(options.needsApproval);
    for (const tool of tools) this.#add(tool, 'the ToolRegistry constructor');
  }

  /** Adds a tool; throws ToolRegistryError for a bad tool or a name already registered. */
  register(tool: Tool): this {
    this.#add(tool, 'register()');
    return this;
  }

  get(name: string): Tool | undefined {
    return this.#tools.get(name)?.tool;
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  list(): Tool[] {
    return [...this.#tools.values()].map((entry) => entry.tool);
  }

  /**
   * Adds a plugin's tools, all or none: a name clash or a failing `setup` registers nothing. A string is imported
   * as a package or a file path (see loadPlugin). `{ mcp }` connects to an MCP server (stdio `command` or
   * Streamable HTTP `url`) and adds each of its tools as `NAME.TOOL`; `dispose()` closes it. Throws
   * PluginLoadError, ToolRegistryError or McpServerError.
   */
  async use(plugin: Plugin | string | { mcp: McpServerOptions }): Promise<Plugin> {
    if (typeof plugin === 'object' && plugin !== null && 'mcp' in plugin) return this.#useMcp(plugin);
    let resolved: Plugin;
    let source = 'a plugin object';
    try {
      resolved = typeof plugin === 'string' ? await loadPlugin(plugin) : validatePlugin(plugin, describePlugin(plugin));
      source = `plugin "${resolved.name}@${resolved.version}"`;
      const names = new Set<string>();
      for (const tool of resolved.tools) {
        this.#check(tool, source);
        if (names.has(tool.name)) throw new ToolRegistryError(`${source} declares tool "${tool.name}" twice.`, { details: { tool: tool.name, source } });
        names.add(tool.name);
      }
    } catch (cause) {
      if (AutoglmError.isInstance(cause)) throw cause;
      // A getter of the plugin or of one of its tools threw while it was being read.
      throw new PluginLoadError(`Reading ${source} failed: ${cause instanceof Error ? cause.message : String(cause)}. Give plain objects (no throwing getters).`, {
        cause,
        details: { source },
      });
    }
    if (resolved.setup) {
      const logger = this.#logger.child({ plugin: resolved.name });
      try {
        await resolved.setup({ logger, registeredTools: [...this.#tools.keys()] });
      } catch (cause) {
        throw new PluginLoadError(`${source} failed in setup(): ${(cause as Error)?.message ?? String(cause)}.`, {
          cause,
          details: { specifier: typeof plugin === 'string' ? plugin : resolved.name },
        });
      }
    }
    for (const tool of resolved.tools) this.#tools.set(tool.name, { tool, source });
    return resolved;
  }

  async #useMcp(plugin: { mcp: McpServerOptions }): Promise<Plugin> {
    assertKnownNames(plugin, ['mcp'], { where: 'use({ mcp })', error: ToolRegistryError });
    const session = new McpSession(checkMcpServerOptions(plugin.mcp));
    try {
      const tools = await session.tools();
      const source = `MCP server "${session.options.name}"`;
      for (const tool of tools) this.#check(tool, source);
      for (const tool of tools) this.#tools.set(tool.name, { tool, source });
      this.#mcpSessions.push(session);
      return { name: session.options.name, version: 'mcp', tools };
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  /** Closes the MCP sessions opened by `use({ mcp })` (their tools then fail with MCP_SERVER). Safe to call twice. */
  async dispose(): Promise<void> {
    const sessions = this.#mcpSessions;
    this.#mcpSessions = [];
    await Promise.all(sessions.map((session) => session.close()));
  }

  /** Name, description and input JSON Schema of every tool, for prompts and tool-call grammars. */
  toolSpecs(): ToolSpec[] {
    return [...this.#tools.values()].map((entry) => {
      entry.spec ??= {
        name: entry.tool.name,
        description: entry.tool.description,
        parameters: inputJsonSchema(entry.tool),
      };
      return entry.spec;
    });
  }

  /** The approval policy in force for `name`: this registry's `needsApproval` option, else the tool's own. */
  approvalPolicy(name: string): ToolApprovalPolicy | undefined {
    return this.#approvalOverrides.get(name) ?? this.#tools.get(name)?.tool.needsApproval;
  }

  /**
   * Whether a call the model makes needs a person's approval before `call` runs it (the agent asks this first).
   * Unknown tools and arguments that fail validation need none: `call` refuses them without running anything. A
   * policy function sees the validated arguments; one that throws or returns a non-boolean counts as `true`.
   */
  async needsApproval(name: string, rawArgs: unknown, context: ToolApprovalContext): Promise<boolean> {
    const unknown = [...this.#approvalOverrides.keys()].filter((tool) => !this.#tools.has(tool));
    if (unknown.length > 0) {
      throw new ToolRegistryError(
        `ToolRegistry option needsApproval names ${unknown.map((tool) => `"${tool}"`).join(', ')}, which no registered tool has (registered: ${[...this.#tools.keys()].join(', ') || 'none'}); fix the name, or register the tool first.`,
        { details: { unknown } },
      );
    }
    const entry = this.#tools.get(name);
    const policy = this.approvalPolicy(name);
    if (entry === undefined || policy === undefined || policy === false) return false;
    if (policy === true) return true;
    let parsed: { success: boolean; data?: unknown };
    try {
      parsed = await entry.tool.input.safeParseAsync(rawArgs === undefined ? {} : rawArgs);
    } catch {
      return false; // `call` reports the failing schema itself and runs nothing
    }
    if (!parsed.success) return false;
    try {
      const decided: unknown = await policy(parsed.data, context);
      if (typeof decided === 'boolean') return decided;
      this.#logger.warn({ tool: name, returned: typeof decided }, 'needsApproval returned a non-boolean; the call needs approval');
    } catch (error) {
      this.#logger.warn({ tool: name, err: error }, 'needsApproval threw; the call needs approval');
    }
    return true;
  }

  async call(name: string, rawArgs: unknown, options: ToolCallOptions = {}): Promise<ToolResult> {
    const entry = this.#tools.get(name);
    if (!entry) {
      const known = [...this.#tools.keys()];
      return failure(
        new ToolNotFoundError(
          `Unknown tool "${name}". ${known.length ? `Available tools: ${known.join(', ')}.` : 'No tools are registered.'}`,
        ),
      );
    }
    const { tool } = entry;
    if (options.signal?.aborted) return failure(abortError(name, options.signal));

    let args: unknown;
    try {
      const parsed = await tool.input.safeParseAsync(rawArgs === undefined ? {} : rawArgs);
      if (!parsed.success) {
        const issues = toIssues(parsed.error.issues);
        return failure(
          new ToolInputError(
            `Invalid arguments for tool "${name}": ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}. ` +
              'Fix these arguments and call the tool again.',
          ),
          issues,
        );
      }
      args = parsed.data;
    } catch (error) {
      return failure(toAutoglmError(error, name));
    }

    const timeoutMs = options.timeoutMs ?? tool.timeoutMs ?? this.#defaultTimeoutMs;
    checkTimeout(timeoutMs, `timeoutMs of the call to "${name}"`);
    const logger = (options.logger ?? this.#logger).child({
      tool: name,
      ...(options.runId === undefined ? {} : { runId: options.runId }),
      ...(options.stepId === undefined ? {} : { stepId: options.stepId }),
    });
    const execute = async (signal: AbortSignal): Promise<ToolResult> => {
      const ctx: ToolContext = {
        signal,
        logger,
        files: this.files,
        model: options.model ?? this.#model,
        idempotencyKey: options.idempotencyKey,
        runId: options.runId,
        stepId: options.stepId,
      };
      try {
        const value = await tool.execute(args, ctx);
        if (signal.aborted) return failure(toAutoglmError(signal.reason, name));
        if (!tool.output) return { ok: true, value };
        const checked = await tool.output.safeParseAsync(value);
        if (checked.success) return { ok: true, value: checked.data };
        const issues = toIssues(checked.error.issues);
        return failure(
          new ToolExecutionError(
            `Tool "${name}" returned a value that does not match its output schema: ` +
              `${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}. This is a defect of the tool, not of the arguments.`,
          ),
          issues,
        );
      } catch (error) {
        // Once cancelled, the tool's own error is a consequence of the abort; report the abort.
        return failure(toAutoglmError(signal.aborted ? signal.reason : error, name));
      }
    };

    const started = performance.now();
    logger.debug({ event: 'tool-start' }, 'tool call started');
    const result = await withDeadline(execute, {
      timeoutMs: timeoutMs <= maxTimerDelayMs ? timeoutMs : undefined,
      signal: options.signal,
      onTimeout: () =>
        new ToolTimeoutError(`Tool "${name}" did not finish within ${timeoutMs} ms and was cancelled. Try smaller input, or raise its timeoutMs.`, {
          details: { tool: name, timeoutMs },
        }),
      onAbort: (reason) => abortError(name, reason),
    }).catch((error: unknown) => failure(toAutoglmError(error, name)));
    logger.debug(
      { event: 'tool-end', ok: result.ok, code: result.ok ? undefined : result.error.code, ms: performance.now() - started },
      'tool call ended',
    );
    return result;
  }

  #check(tool: Tool, source: string): void {
    const problems: string[] = [];
    if (typeof tool !== 'object' || tool === null) {
      throw new ToolRegistryError(`A tool from ${source} is not an object (got ${String(tool)}).`, { details: { source } });
    }
    if (!isToolName(tool.name)) {
      problems.push(`name ${JSON.stringify(tool.name)} is not ${toolNameRule}`);
    }
    if (typeof tool.description !== 'string') problems.push('description must be a string');
    assertNotZod3(tool.input, `Tool ${JSON.stringify(tool.name)} from ${source}: input`);
    assertNotZod3(tool.output, `Tool ${JSON.stringify(tool.name)} from ${source}: output`);
    if (typeof tool.input?.safeParseAsync !== 'function') problems.push('input must be a zod schema');
    if (tool.output !== undefined && typeof tool.output?.safeParseAsync !== 'function') problems.push('output must be a zod schema');
    if (typeof tool.execute !== 'function') problems.push('execute must be a function');
    if (tool.timeoutMs !== undefined && !(typeof tool.timeoutMs === 'number' && tool.timeoutMs > 0)) {
      problems.push('timeoutMs must be a positive number of milliseconds');
    }
    if (!isApprovalPolicy(tool.needsApproval)) problems.push('needsApproval must be a boolean or a function (args, context) => boolean');
    if (problems.length) {
      throw new ToolRegistryError(`Tool ${JSON.stringify(tool.name)} from ${source} is invalid: ${problems.join('; ')}.`, {
        details: { tool: tool.name, source, problems },
      });
    }
    const existing = this.#tools.get(tool.name);
    if (existing) {
      throw new ToolRegistryError(
        `Tool "${tool.name}" from ${source} clashes with the tool of the same name from ${existing.source}. ` +
          'Rename one of them or register only one.',
        { details: { tool: tool.name, source, existingSource: existing.source } },
      );
    }
  }

  #add(tool: Tool, source: string): void {
    this.#check(tool, source);
    this.#tools.set(tool.name, { tool, source });
  }
}

function isApprovalPolicy(value: unknown): boolean {
  return value === undefined || typeof value === 'boolean' || typeof value === 'function';
}

function checkApprovalOverrides(overrides: ToolRegistryOptions['needsApproval']): ReadonlyMap<string, ToolApprovalPolicy> {
  if (overrides === undefined) return new Map();
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ToolRegistryError('ToolRegistry option needsApproval must be an object of tool name -> boolean or function, e.g. { "files.write": false }.');
  }
  const bad = Object.entries(overrides).filter(([, policy]) => policy === undefined || !isApprovalPolicy(policy));
  if (bad.length > 0) {
    throw new ToolRegistryError(
      `ToolRegistry option needsApproval: ${bad.map(([name]) => `"${name}"`).join(', ')} must be a boolean or a function (args, context) => boolean.`,
      { details: { tools: bad.map(([name]) => name) } },
    );
  }
  return new Map(Object.entries(overrides));
}

function describePlugin(plugin: unknown): string {
  const name = (plugin as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name ? `"${name}"` : '(object passed to use())';
}

function inputJsonSchema(tool: Tool): JsonSchema {
  try {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.input, {
      io: 'input',
      unrepresentable: 'any',
      // z.int() bounds itself to safe integers; saying so in every prompt only costs tokens.
      override: ({ jsonSchema }) => {
        if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
        if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      },
    }) as JsonSchema;
    return schema;
  } catch (cause) {
    throw new ToolRegistryError(`The input schema of tool "${tool.name}" cannot be expressed as JSON Schema: ${(cause as Error).message}.`, {
      cause,
      details: { tool: tool.name },
    });
  }
}

function checkTimeout(value: number, what: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new ToolRegistryError(`Expected ${what} to be a positive number of milliseconds (Infinity for none), got ${String(value)}.`);
  }
}

/** Zod issue paths as `pages[0].number`; the whole input as `(arguments)`. */
function toIssues(issues: readonly z.core.$ZodIssue[]): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path:
      issue.path.reduce<string>(
        (path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key)),
        '',
      ) || '(arguments)',
    message: issue.message,
  }));
}

function abortError(name: string, signalReason: unknown): AbortError {
  const reason = signalReason instanceof Error ? `: ${signalReason.message}` : '';
  return new AbortError(`The call to tool "${name}" was cancelled by the caller${reason}.`, { details: { tool: name } });
}

function toAutoglmError(error: unknown, name: string): AutoglmError {
  if (AutoglmError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ToolExecutionError(`Tool "${name}" failed: ${message}`, { cause: error, details: { tool: name } });
}

function failure(error: AutoglmError, issues?: ToolError['issues']): ToolResult {
  return { ok: false, error: { code: error.code, message: error.message, ...(issues ? { issues } : {}) } };
}
