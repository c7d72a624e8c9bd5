/**
 * `autoglm mcp --roots DIR [--plugin FILE]`: serves the registry's tools (built-in and plugins) to MCP clients over
 * stdio. MCP clients accept only `[A-Za-z0-9_-]` in tool names, so each `.` of a name becomes `__`
 * (`pdf.extract` -> `pdf__extract`).
 */
import path from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { UsageError } from '../errors';
import { documentTools } from '../tools/documents/document-tools';
import { fileTools } from '../tools/file-tools';
import { financeTools } from '../tools/finance/key-figures-tool';
import { pdfTools } from '../tools/pdf';
import { ToolRegistry } from '../tools/tool-registry';
import { exitCodes, type CliContext } from './cli-context';
import { parseCommandLine } from './parse-command-line';

export const mcpHelp = `Usage: autoglm mcp --roots DIR [--roots DIR ...] [--plugin FILE ...]

Serves the built-in tools (pdf.*, finance.*, document.*, files.* without files.write) and the plugins' tools to an
MCP client over stdio (stdin/stdout). Tool names have each "." written as "__": pdf.extract is pdf__extract.

Options:
  --roots DIR      Folder the tools may read (repeatable; required)
  --plugin SPEC    Load a tool plugin (package name or file path; repeatable)
  -h, --help       Show this help`;

/** An autoglm tool name as an MCP tool name: each `.` becomes `__` (`pdf.extract` -> `pdf__extract`). */
export const toMcpToolName = (name: string): string => name.replaceAll('.', '__');

export async function mcpCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine('mcp', args, {
    roots: { type: 'string', multiple: true },
    plugin: { type: 'string', multiple: true },
  });
  if (values.help) {
    context.stdout.write(`${mcpHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length > 0) throw new UsageError(`mcp: takes no positional arguments, got ${positionals.join(' ')}.`);
  if (!values.roots?.length) throw new UsageError('mcp: --roots DIR is required: the folder the tools may read. Run `autoglm mcp --help`.');
  const roots = values.roots.map((root) => path.resolve(context.cwd, root));
  const tools = new ToolRegistry(
    [...pdfTools, ...financeTools, ...documentTools, ...fileTools.filter((tool) => tool.name !== 'files.write')],
    { roots },
  );
  for (const plugin of values.plugin ?? []) await tools.use(plugin);

  const byMcpName = new Map(tools.list().map((tool) => [toMcpToolName(tool.name), tool.name]));
  const server = new Server({ name: 'autoglm', version: '0.1.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.toolSpecs().map((spec) => ({
      name: toMcpToolName(spec.name),
      description: spec.description,
      inputSchema: { type: 'object' as const, ...spec.parameters },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = byMcpName.get(request.params.name) ?? request.params.name;
    const result = await tools.call(name, request.params.arguments ?? {}, { signal: extra.signal });
    if (!result.ok) return { isError: true, content: [{ type: 'text' as const, text: `${result.error.code}: ${result.error.message}` }] };
    const { value } = result;
    const isRecord = typeof value === 'object' && value !== null && !Array.isArray(value);
    return {
      content: [{ type: 'text' as const, text: typeof value === 'string' ? value : JSON.stringify(value) }],
      ...(isRecord ? { structuredContent: value as Record<string, unknown> } : {}),
    };
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
  await tools.dispose();
  return exitCodes.ok;
}
