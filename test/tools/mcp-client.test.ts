import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McpServerError, ToolRegistryError } from '../../src/errors';
import { mcpToolNameToPart } from '../../src/tools/mcp/mcp-client';
import { ToolRegistry } from '../../src/tools/tool-registry';
// @ts-expect-error a plain .mjs fixture without types
import { buildServer } from './fixtures/mcp-echo-server.mjs';

const fixture = resolve(import.meta.dirname, 'fixtures/mcp-echo-server.mjs');
const stdio = { name: 'echo', command: process.execPath, args: [fixture] };
const registries: ToolRegistry[] = [];
const registry = (): ToolRegistry => {
  const made = new ToolRegistry();
  registries.push(made);
  return made;
};

afterEach(async () => {
  await Promise.all(registries.splice(0).map((made) => made.dispose()));
});

describe('MCP client over stdio', () => {
  it('registers each tool as NAME.TOOL with its JSON Schema, and returns results as values', async () => {
    const tools = registry();
    const plugin = await tools.use({ mcp: stdio });
    expect(plugin.tools.map((tool) => tool.name).sort()).toEqual(['echo.add', 'echo.crash', 'echo.fail', 'echo.read_note', 'echo.sleep']);
    const add = tools.toolSpecs().find((spec) => spec.name === 'echo.add');
    expect(add).toMatchObject({
      description: 'Adds two numbers.',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    });
    expect(await tools.call('echo.add', { a: 2, b: 3 })).toEqual({ ok: true, value: { sum: 5 } });
    const note = await tools.call('echo.read_note', { title: 'q3' });
    expect(note.ok && note.value).toMatch(/^note: q3 \(pid \d+\)$/);
  });

  it('validates arguments against the JSON Schema before calling the server', async () => {
    const tools = registry();
    await tools.use({ mcp: stdio });
    const result = await tools.call('echo.add', { a: 'two', b: 3 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('TOOL_INPUT');
    expect(!result.ok && result.error.issues?.[0]?.path).toBe('a');
  });

  it('reports an isError result as TOOL_EXECUTION with the server text', async () => {
    const tools = registry();
    await tools.use({ mcp: stdio });
    const result = await tools.call('echo.fail', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_EXECUTION' } });
    expect(!result.ok && result.error.message).toContain('the disk is on fire');
  });

  it('times out and aborts through the SDK request', async () => {
    const tools = registry();
    await tools.use({ mcp: stdio });
    const timedOut = await tools.call('echo.sleep', { ms: 10_000 }, { timeoutMs: 200 });
    expect(timedOut).toMatchObject({ ok: false, error: { code: 'TOOL_TIMEOUT' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(await tools.call('echo.sleep', { ms: 10_000 }, { signal: controller.signal })).toMatchObject({ ok: false, error: { code: 'ABORT' } });
    // The session survived both: the next call is served by the same process.
    expect(await tools.call('echo.add', { a: 1, b: 1 })).toEqual({ ok: true, value: { sum: 2 } });
  });

  it('reports a crashed server as MCP_SERVER and reconnects on the next call', async () => {
    const tools = registry();
    await tools.use({ mcp: stdio });
    const before = await tools.call('echo.read_note', { title: 'a' });
    const crashed = await tools.call('echo.crash', {});
    expect(crashed).toMatchObject({ ok: false, error: { code: 'MCP_SERVER' } });
    const after = await tools.call('echo.read_note', { title: 'a' });
    expect(after.ok).toBe(true);
    const pid = (result: typeof before) => (result.ok ? String(result.value).match(/pid (\d+)/)?.[1] : undefined);
    expect(pid(after)).toBeDefined();
    expect(pid(after)).not.toBe(pid(before));
  });

  it('dispose() closes the session; its tools then fail with MCP_SERVER', async () => {
    const tools = registry();
    await tools.use({ mcp: stdio });
    await tools.dispose();
    expect(await tools.call('echo.add', { a: 1, b: 1 })).toMatchObject({ ok: false, error: { code: 'MCP_SERVER' } });
  });

  it('refuses bad options and an unstartable server with typed errors', async () => {
    const tools = registry();
    await expect(tools.use({ mcp: { name: 'bad name', command: 'node' } })).rejects.toThrow(ToolRegistryError);
    await expect(tools.use({ mcp: { name: 'x' } })).rejects.toThrow(/exactly one of mcp.command/);
    await expect(tools.use({ mcp: { name: 'x', command: 'node', colour: 'red' } as never })).rejects.toThrow(/colour/);
    await expect(tools.use({ mcp: { name: 'x', command: resolve(fixture, 'no-such-program') } })).rejects.toThrow(McpServerError);
    expect(tools.list()).toEqual([]);
  });

  it('registers none of the server tools when one clashes, and closes that session', async () => {
    const tools = registry();
    tools.register({ name: 'echo.add', description: 'mine', input: z.object({}), execute: () => 'local' });
    await expect(tools.use({ mcp: stdio })).rejects.toThrow(/clashes with the tool of the same name/);
    expect(tools.list().map((tool) => tool.name)).toEqual(['echo.add']);
    expect(await tools.call('echo.add', {})).toEqual({ ok: true, value: 'local' });
  });

  it('maps MCP tool names to the tool-name rule', () => {
    expect(mcpToolNameToPart('read-file')).toBe('read_file');
    expect(mcpToolNameToPart('fs/list.dir')).toBe('fs_list_dir');
    expect(mcpToolNameToPart('2fa')).toBe('_2fa');
  });
});

describe('MCP client over Streamable HTTP', () => {
  let http: Server | undefined;
  afterEach(async () => {
    http?.closeAllConnections();
    await new Promise((done) => (http ? http.close(done) : done(undefined)));
    http = undefined;
  });

  it('calls a tool of a server on 127.0.0.1', async () => {
    http = createServer(async (req, res) => {
      // Stateless: one server and transport per request.
      const server = buildServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((done) => http!.listen(0, '127.0.0.1', done));
    const { port } = http.address() as AddressInfo;
    const tools = registry();
    await tools.use({ mcp: { name: 'remote', url: `http://127.0.0.1:${port}/mcp` } });
    expect(tools.has('remote.add')).toBe(true);
    expect(await tools.call('remote.add', { a: 20, b: 22 })).toEqual({ ok: true, value: { sum: 42 } });
    await tools.dispose();
  });
});
