/**
 * MCP client: connects to an MCP server (a child process over stdio, or a Streamable HTTP URL) and turns each of
 * its tools into a registry tool `NAME.TOOL` whose input is the tool's JSON Schema.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode as McpErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AutoglmError, McpServerError, ToolExecutionError, ToolRegistryError } from '../../errors';
import { isToolName } from '../../models/chat-format/chat-format';
import { assertKnownNames } from '../../strict-options';
import { maxTimerDelayMs } from '../../with-deadline';
import type { Tool, ToolContext } from '../tool';

/** One MCP server to use: give `command` (stdio) or `url` (Streamable HTTP), not both. */
export interface McpServerOptions {
  /** Prefix of the server's tools in the registry (`NAME.TOOL`): letters, digits and _, not starting with a digit. Required. */
  name: string;
  /** The program that runs the server over stdio, e.g. `node`. Required unless `url` is given. */
  command?: string;
  /** Arguments of `command`. Defaults to none. */
  args?: string[];
  /** Environment of the server process. Defaults to the SDK's safe subset of this process's environment (PATH, HOME, ...). */
  env?: Record<string, string>;
  /** Working directory of the server process. Defaults to this process's. */
  cwd?: string;
  /** The server's Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. Required unless `command` is given. */
  url?: string;
  /** Extra HTTP headers sent with every request to `url` (e.g. authorization). Defaults to none. */
  headers?: Record<string, string>;
  /** Timeout of each call to this server's tools, in ms. Defaults to the registry's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /**
   * A person approves each call an agent makes to this server's tools before it runs (see docs/tools.md; per tool:
   * the registry option `needsApproval: { 'NAME.TOOL': true }`). Defaults to false.
   */
  needsApproval?: boolean;
}

/** Every name McpServerOptions has; the `satisfies` keeps this list in step with the interface. */
const mcpOptionNames = Object.keys({
  name: true,
  command: true,
  args: true,
  env: true,
  cwd: true,
  url: true,
  headers: true,
  timeoutMs: true,
  needsApproval: true,
} satisfies Record<keyof McpServerOptions, true>);

const serverNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks `options` and returns them; throws ToolRegistryError naming the bad field. */
export function checkMcpServerOptions(options: unknown): McpServerOptions {
  const fail = (message: string, field: string): never => {
    throw new ToolRegistryError(`use({ mcp }): ${message}`, { details: { field } });
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('`mcp` must be an object such as { name: "files", command: "node", args: ["server.js"] } or { name, url }.', 'mcp');
  }
  assertKnownNames(options as Record<string, unknown>, mcpOptionNames, { where: 'use({ mcp }) options', error: ToolRegistryError });
  const o = options as McpServerOptions;
  if (typeof o.name !== 'string' || !serverNamePattern.test(o.name)) {
    fail(`mcp.name must be letters, digits and _ not starting with a digit (it prefixes the tool names), got ${JSON.stringify(o.name)}.`, 'mcp.name');
  }
  if ((o.command === undefined) === (o.url === undefined)) {
    fail('give exactly one of mcp.command (a server over stdio) and mcp.url (a Streamable HTTP server).', o.command === undefined ? 'mcp.command' : 'mcp.url');
  }
  if (o.command !== undefined && (typeof o.command !== 'string' || o.command === '')) fail('mcp.command must be a non-empty string.', 'mcp.command');
  if (o.args !== undefined && !(Array.isArray(o.args) && o.args.every((arg) => typeof arg === 'string'))) {
    fail('mcp.args must be an array of strings.', 'mcp.args');
  }
  for (const field of ['env', 'headers'] as const) {
    const value = o[field];
    if (value !== undefined && !(typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string'))) {
      fail(`mcp.${field} must be an object of string values.`, `mcp.${field}`);
    }
  }
  if (o.cwd !== undefined && typeof o.cwd !== 'string') fail('mcp.cwd must be a string.', 'mcp.cwd');
  if (o.url !== undefined) {
    let ok = false;
    try {
      ok = typeof o.url === 'string' && ['http:', 'https:'].includes(new URL(o.url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) fail(`mcp.url must be an http(s) URL, got ${JSON.stringify(o.url)}.`, 'mcp.url');
  }
  if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === 'number' && o.timeoutMs > 0)) {
    fail('mcp.timeoutMs must be a positive number of milliseconds.', 'mcp.timeoutMs');
  }
  if (o.needsApproval !== undefined && typeof o.needsApproval !== 'boolean') fail('mcp.needsApproval must be true or false.', 'mcp.needsApproval');
  return o;
}

/**
 * An MCP tool name as a registry tool name: each character outside letters, digits and _ becomes _, and a leading
 * digit gets a _ before it (`read-file` -> `read_file`, `2fa` -> `_2fa`).
 */
export function mcpToolNameToPart(name: string): string {
  const part = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(part) || part === '' ? `_${part}` : part;
}

/** A connection to one MCP server that reconnects on the next call after the server crashed or closed. */
export class McpSession {
  readonly options: McpServerOptions;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;

  constructor(options: McpServerOptions) {
    this.options = options;
  }

  /** The connected client, connecting first when there is none (the first call, or after a crash). */
  async client(): Promise<Client> {
    if (this.#closed) {
      throw new McpServerError(`MCP server "${this.options.name}" was closed by dispose(); create a new registry to use it again.`, {
        details: { server: this.options.name },
      });
    }
    if (this.#client) return this.#client;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    const { name } = this.options;
    const client = new Client({ name: 'autoglm', version: '0.1.0' });
    const transport: Transport = this.options.url
      ? new StreamableHTTPClientTransport(new URL(this.options.url), {
          ...(this.options.headers ? { requestInit: { headers: this.options.headers } } : {}),
        })
      : new StdioClientTransport({
          command: this.options.command!,
          args: this.options.args ?? [],
          ...(this.options.env ? { env: this.options.env } : {}),
          ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
          stderr: 'ignore',
        });
    client.onclose = () => {
      if (this.#client === client) this.#client = undefined;
    };
    try {
      await client.connect(transport);
    } catch (cause) {
      await client.close().catch(() => undefined);
      throw new McpServerError(
        `MCP server "${name}" could not be started or reached (${this.#where()}): ${cause instanceof Error ? cause.message : String(cause)}. ` +
          'Check the command, its arguments or the URL.',
        { cause, details: { server: name } },
      );
    }
    this.#client = client;
    return client;
  }

  #where(): string {
    return this.options.url ? `url ${this.options.url}` : `command ${JSON.stringify([this.options.command, ...(this.options.args ?? [])].join(' '))}`;
  }

  /** The server's tools as registry tools named `NAME.TOOL`; throws McpServerError or ToolRegistryError. */
  async tools(): Promise<Tool[]> {
    const client = await this.client();
    const listed: Array<{ name: string; description?: string; inputSchema: Record<string, unknown> }> = [];
    try {
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        listed.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
    } catch (cause) {
      throw this.#toError(cause, 'listing its tools');
    }
    const byName = new Map<string, string>();
    return listed.map((mcpTool) => {
      const registryName = `${this.options.name}.${mcpToolNameToPart(mcpTool.name)}`;
      const other = byName.get(registryName);
      if (other !== undefined || !isToolName(registryName)) {
        throw new ToolRegistryError(
          other === undefined
            ? `MCP tool "${mcpTool.name}" of server "${this.options.name}" maps to "${registryName}", which is longer than 128 characters. Use a shorter server name.`
            : `MCP tools "${other}" and "${mcpTool.name}" of server "${this.options.name}" both map to "${registryName}". Rename one on the server.`,
          { details: { server: this.options.name, tool: mcpTool.name } },
        );
      }
      byName.set(registryName, mcpTool.name);
      return this.#tool(registryName, mcpTool);
    });
  }

  #tool(registryName: string, mcpTool: { name: string; description?: string; inputSchema: Record<string, unknown> }): Tool {
    let input: z.ZodType;
    try {
      input = z.fromJSONSchema(mcpTool.inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (cause) {
      throw new ToolRegistryError(
        `The input schema of MCP tool "${mcpTool.name}" (server "${this.options.name}") is not a JSON Schema autoglm can use: ${(cause as Error).message}.`,
        { cause, details: { server: this.options.name, tool: mcpTool.name } },
      );
    }
    return {
      name: registryName,
      description: mcpTool.description ?? '',
      input,
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
      ...(this.options.needsApproval === undefined ? {} : { needsApproval: this.options.needsApproval }),
      execute: (args: unknown, ctx: ToolContext) => this.call(mcpTool.name, args as Record<string, unknown>, ctx.signal),
    };
  }

  /**
   * Calls tool `name`; the value is the result's `structuredContent`, else its text (one text part as a string),
   * else its content parts. A result flagged `isError` throws ToolExecutionError with its text.
   */
  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const client = await this.client();
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      // The registry's deadline aborts `signal`; the SDK's own timeout is only the widest one it accepts.
      result = await client.callTool({ name, arguments: args }, undefined, { signal, timeout: maxTimerDelayMs });
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw this.#toError(cause, `calling tool "${name}"`);
    }
    const content = Array.isArray(result.content) ? (result.content as Array<{ type: string; text?: string }>) : [];
    const texts = content.every((part) => part.type === 'text') ? content.map((part) => part.text ?? '') : undefined;
    if (result.isError) {
      throw new ToolExecutionError(`MCP tool "${name}" of server "${this.options.name}" failed: ${texts ? texts.join('\n') : JSON.stringify(content)}`, {
        details: { server: this.options.name, tool: name },
      });
    }
    if (result.structuredContent !== undefined) return result.structuredContent;
    if (texts) return texts.length === 1 ? texts[0] : texts.join('\n');
    return content;
  }

  #toError(cause: unknown, doing: string): AutoglmError {
    if (AutoglmError.isInstance(cause)) return cause;
    const name = this.options.name;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (cause instanceof McpError && cause.code !== McpErrorCode.ConnectionClosed && cause.code !== McpErrorCode.RequestTimeout) {
      return new ToolExecutionError(`MCP server "${name}" refused ${doing}: ${message}`, { cause, details: { server: name } });
    }
    // The connection is gone (process exited, HTTP failure): drop it so that the next call reconnects.
    const client = this.#client;
    this.#client = undefined;
    void client?.close().catch(() => undefined);
    return new McpServerError(`MCP server "${name}" stopped answering while ${doing}: ${message}. The next call reconnects.`, {
      cause,
      details: { server: name },
    });
  }

  /** Closes the connection (ends a stdio server's process); later calls throw McpServerError. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }
}
