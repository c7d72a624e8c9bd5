import { mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusDir, corpusMissingMessage, corpusPresent, repoRoot } from '../support/pdf-corpus';

if (!corpusPresent) console.warn(corpusMissingMessage);

describe.skipIf(!corpusPresent)('autoglm mcp', () => {
  let dir: string;
  let client: Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoglm-mcp-'));
    await copyFile(join(corpusDir, 'APPLE_2023Q3_10Q.pdf'), join(dir, 'apple.pdf'));
    client = new Client({ name: 'mcp-command-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [resolve(repoRoot, 'bin/autoglm.mjs'), 'mcp', '--roots', dir], cwd: repoRoot, stderr: 'ignore' }),
    );
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the tools with . written as __', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('pdf__extract');
    expect(names).not.toContain('files__write');
    expect(names.every((name) => /^[A-Za-z0-9_-]+$/.test(name))).toBe(true);
    const extract = tools.find((tool) => tool.name === 'pdf__extract');
    expect(extract?.inputSchema).toMatchObject({ type: 'object', required: ['path'] });
  });

  it('calls pdf.extract on a corpus PDF inside the roots', async () => {
    const result = await client.callTool({ name: 'pdf__extract', arguments: { path: 'apple.pdf', pages: [1] } }, undefined, { timeout: 60_000 });
    expect(result.isError).toBeFalsy();
    const value = result.structuredContent as { pages: Array<{ number: number; text: string }>; info: { pageCount: number } };
    expect(value.pages).toHaveLength(1);
    expect(value.pages[0]!.number).toBe(1);
    expect(value.pages[0]!.text).toMatch(/Apple/i);
    expect(value.info.pageCount).toBeGreaterThan(1);
  }, 60_000);

  it('answers a path outside the roots as an MCP tool error with the autoglm code', async () => {
    const result = await client.callTool({ name: 'pdf__extract', arguments: { path: '/etc/passwd' } });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]!.text).toMatch(/^PATH_OUTSIDE_SANDBOX: /);
  });
});
