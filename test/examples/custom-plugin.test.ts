/**
 * examples/custom-plugin loads with registry.use(path) and its tool validates and computes.
 */
import { describe, expect, it } from 'vitest';
import { ToolRegistry } from '../../src/tools/tool-registry';

describe('examples/custom-plugin', () => {
  it('registers finance.growth through registry.use and returns failures as values', async () => {
    const registry = new ToolRegistry();
    const plugin = await registry.use('./examples/custom-plugin/index.ts');
    expect(plugin).toMatchObject({ name: 'example-growth', version: '1.0.0' });
    expect(registry.has('finance.growth')).toBe(true);
    expect(await registry.call('finance.growth', { current: 2510, previous: 2483 })).toEqual({ ok: true, value: { change: 27, percent: 1.1, direction: 'up' } });
    expect(await registry.call('finance.growth', { current: 567, previous: -1322, decimals: 2 })).toEqual({
      ok: true,
      value: { change: 1889, percent: 142.89, direction: 'up' },
    });
    const bad = await registry.call('finance.growth', { current: 1, previous: 0 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'TOOL_INPUT', message: expect.stringContaining('previous must not be 0') } });
  });
});
