/**
 * Approval for an MCP server's tools (`use({ mcp: { ..., needsApproval: true } })`): an agent's call to one pauses
 * before the server is called, and runs on the real server (the SDK's McpServer over stdio) once approved.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AutoAgent } from '../../src/agent/auto-agent';
import { ToolRegistry } from '../../src/tools/tool-registry';
import { ScriptedModel } from '../support/scripted-model';
import { promptMessages } from './helpers';

const fixture = resolve(import.meta.dirname, '../tools/fixtures/mcp-echo-server.mjs');
const registries: ToolRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.dispose()));
});

describe('approval of MCP tools', () => {
  it('pauses before echo.add, runs it on the server after approval; mcp.needsApproval must be a boolean', async () => {
    const tools = new ToolRegistry();
    registries.push(tools);
    await tools.use({ mcp: { name: 'echo', command: process.execPath, args: [fixture], needsApproval: true } });
    expect(tools.approvalPolicy('echo.add')).toBe(true);
    const model = new ScriptedModel(['echo.add\n{"a": 2, "b": 40}', '\n42']);
    const agent = new AutoAgent({ task: 'Add.', model, tools, plan: false, maxSteps: 3 });
    const first = await agent.run('2 + 40?');
    expect(first.finishReason).toBe('approval-required');
    if (first.finishReason !== 'approval-required') return;
    expect(first.pendingApprovals).toEqual([{ id: 'call-1-1', name: 'echo.add', args: { a: 2, b: 40 } }]);
    const done = await agent.resume(first.state, [{ id: 'call-1-1', approved: true }]);
    expect(done).toMatchObject({ finishReason: 'answer', output: '42' });
    expect(promptMessages(model.calls[1]!.prompt).findLast((message) => message.role === 'observation')!.body).toContain('"sum":42');

    const other = new ToolRegistry();
    registries.push(other);
    await expect(other.use({ mcp: { name: 'echo', command: process.execPath, args: [fixture], needsApproval: 'yes' as never } })).rejects.toThrow(
      /mcp.needsApproval must be true or false/,
    );
  });
});
