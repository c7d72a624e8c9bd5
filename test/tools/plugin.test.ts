import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PluginLoadError, ToolRegistryError } from '../../src/errors';
import { defineTool } from '../../src/tools/define-tool';
import { definePlugin } from '../../src/tools/plugin';
import { ToolRegistry } from '../../src/tools/tool-registry';

const fixtures = resolve(import.meta.dirname, '../fixtures/plugins');
const fixture = (name: string) => resolve(fixtures, name);

async function loadError(registry: ToolRegistry, specifier: string): Promise<PluginLoadError> {
  try {
    await registry.use(specifier);
  } catch (error) {
    return error as PluginLoadError;
  }
  throw new Error(`use(${specifier}) did not fail`);
}

describe('plugins', () => {
  it('uses a plugin object and runs its setup before registering', async () => {
    const seen: string[][] = [];
    const plugin = definePlugin({
      name: 'inline',
      version: '1.0.0',
      tools: [defineTool({ name: 'inline.twice', description: '', input: z.object({ n: z.number() }), execute: ({ n }) => n * 2 })],
      setup: (ctx) => void seen.push([...ctx.registeredTools]),
    });
    const registry = new ToolRegistry([defineTool({ name: 'base', description: '', input: z.object({}), execute: () => 0 })]);
    expect(await registry.use(plugin)).toBe(plugin);
    expect(seen).toEqual([['base']]);
    expect(await registry.call('inline.twice', { n: 21 })).toEqual({ ok: true, value: 42 });
  });

  it('loads a default-exported .mjs plugin from an absolute path', async () => {
    const registry = new ToolRegistry([]);
    const plugin = await registry.use(fixture('finance-plugin.mjs'));
    expect(plugin.name).toBe('finance-fixture');
    expect(await registry.call('finance.margin', { revenue: 200, operatingIncome: 50 })).toEqual({ ok: true, value: { margin: 0.25 } });
    expect(registry.toolSpecs()[0].parameters).toMatchObject({ required: ['revenue', 'operatingIncome'] });
  });

  it('loads from a path relative to the working directory and from a file URL', async () => {
    const fromRelative = new ToolRegistry([]);
    await fromRelative.use(`./${relative(process.cwd(), fixture('finance-plugin.mjs'))}`);
    expect(fromRelative.has('finance.margin')).toBe(true);
    const fromUrl = new ToolRegistry([]);
    await fromUrl.use(pathToFileURL(fixture('finance-plugin.mjs')).href);
    expect(fromUrl.has('finance.margin')).toBe(true);
  });

  it('loads a TypeScript plugin exported as `plugin`', async () => {
    const registry = new ToolRegistry([]);
    await registry.use(fixture('named-plugin.ts'));
    expect(await registry.call('greeting.hello', { who: 'GLM' })).toEqual({ ok: true, value: 'hello GLM' });
  });

  it('refuses a clashing plugin atomically, naming both plugins', async () => {
    const registry = new ToolRegistry([]);
    await registry.use(fixture('finance-plugin.mjs'));
    const error = (await registry.use(fixture('clashing-plugin.mjs')).catch((caught: unknown) => caught)) as ToolRegistryError;
    expect(error).toBeInstanceOf(ToolRegistryError);
    expect(error.message).toContain('plugin "other-finance@3.1.4"');
    expect(error.message).toContain('plugin "finance-fixture@1.0.0"');
    expect(registry.has('other.tool')).toBe(false);
  });

  it('reports a module that throws at import with the specifier and the cause', async () => {
    const specifier = fixture('broken-plugin.mjs');
    const error = await loadError(new ToolRegistry([]), specifier);
    expect(error).toBeInstanceOf(PluginLoadError);
    expect(error.code).toBe('PLUGIN_LOAD');
    expect(error.message).toContain(specifier);
    expect(error.message).toContain('crashed at import time');
    expect((error.cause as Error).message).toContain('crashed at import time');
  });

  it('reports a missing file and a missing package', async () => {
    const missingFile = await loadError(new ToolRegistry([]), './test/fixtures/plugins/does-not-exist.mjs');
    expect(missingFile).toBeInstanceOf(PluginLoadError);
    expect(missingFile.message).toContain('does-not-exist.mjs');
    const missingPackage = await loadError(new ToolRegistry([]), 'autoglm-plugin-that-is-not-installed');
    expect(missingPackage).toBeInstanceOf(PluginLoadError);
    expect(missingPackage.details.specifier).toBe('autoglm-plugin-that-is-not-installed');
  });

  it('reports a module that exports no plugin, listing its exports', async () => {
    const error = await loadError(new ToolRegistry([]), fixture('not-a-plugin.mjs'));
    expect(error).toBeInstanceOf(PluginLoadError);
    expect(error.message).toMatch(/exports no plugin/);
    expect(error.message).toContain('answer, helper');
  });

  it('reports each shape problem of an invalid plugin', async () => {
    const error = await loadError(new ToolRegistry([]), fixture('invalid-plugin.mjs'));
    expect(error).toBeInstanceOf(PluginLoadError);
    expect(error.message).toContain('version');
    expect(error.message).toContain('tools.0.input: expected a zod schema');
    expect(error.message).toContain('tools.0.execute');
  });

  it('registers nothing when setup fails', async () => {
    const registry = new ToolRegistry([]);
    const error = await loadError(registry, fixture('failing-setup-plugin.mjs'));
    expect(error).toBeInstanceOf(PluginLoadError);
    expect(error.message).toContain('missing licence key');
    expect(registry.has('failing.tool')).toBe(false);
  });

  it('refuses a plugin object of the wrong shape and an empty specifier', async () => {
    await expect(new ToolRegistry([]).use({ name: 'x', tools: 'no' } as never)).rejects.toBeInstanceOf(PluginLoadError);
    await expect(new ToolRegistry([]).use('  ')).rejects.toBeInstanceOf(PluginLoadError);
  });

  it.each([
    ['data:text/javascript,export default { name: "x", version: "1", tools: [] }', 'data'],
    ['data:text/typescript;base64,ZXhwb3J0IGRlZmF1bHQge30=', 'data'],
    ['https://example.com/plugin.js', 'https'],
    ['node:fs', 'node'],
    ['blob:nodedata:1234', 'blob'],
  ])('refuses the inline or remote specifier %s without importing it', async (specifier, scheme) => {
    const registry = new ToolRegistry();
    const error = await loadError(registry, specifier);
    expect(error).toBeInstanceOf(PluginLoadError);
    expect(error.message).toContain(`is a ${scheme}: URL; plugins load only from a package name or a file path`);
    expect(error.details).toMatchObject({ scheme, reason: 'url-specifier' });
    expect(registry.list()).toEqual([]);
  });
});
