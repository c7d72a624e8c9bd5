/**
 * Issue 18 (9): a plugin object whose getter throws is a typed PluginLoadError from ToolRegistry.use, not a raw
 * exception from inside the registry.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, PluginLoadError, ToolRegistry } from '../../src/index';

describe('plugins with throwing getters', () => {
  it('a throwing getter on the plugin is a PluginLoadError', async () => {
    const plugin = {
      name: 'hostile',
      version: '1.0.0',
      get tools(): never {
        throw new Error('getter exploded');
      },
    };
    const error = await new ToolRegistry().use(plugin as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluginLoadError);
    expect((error as Error).message).toMatch(/getter exploded/);
  });

  it('a throwing getter on one of its tools is a PluginLoadError naming the plugin', async () => {
    const good = defineTool({ name: 'ok', description: 'ok', input: z.object({}), execute: () => 1 });
    const tool = Object.create(good, { name: { get: () => { throw new Error('name getter exploded'); } } });
    const error = await new ToolRegistry().use({ name: 'hostile-tools', version: '1.0.0', tools: [tool] } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluginLoadError);
    expect((error as Error).message).toMatch(/name getter exploded/);
  });
});
