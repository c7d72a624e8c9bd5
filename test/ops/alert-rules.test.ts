/**
 * The Prometheus alert rules in deploy/prometheus/: valid (`promtool check rules`), behaving as their unit tests
 * say (`promtool test rules`), and written only against metrics a real server exports at /metrics.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';
import { startRegistryServer, type RegistryServer } from './registry-server';

const rulesDir = path.resolve(import.meta.dirname, '../../deploy/prometheus');
const rulesFile = path.join(rulesDir, 'autoglm-alerts.yml');

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: rulesDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { code?: string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('promtool is not installed: install the Debian package `prometheus` (.ci/run does).');
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'autoglm-alerts.yml')).toContain('SUCCESS: 8 rules found');
  });

  it('pass their promtool unit tests', () => {
    expect(promtool('test', 'rules', 'autoglm-alerts.test.yml')).toContain('SUCCESS');
  });

  describe('against a running server', () => {
    let root: string;
    let served: RegistryServer | undefined;
    let url: string;

    beforeAll(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), 'ops-alerts-'));
      const tiny = await createTinyGlm(path.join(root, 'model'), { seed: 5 });
      served = await startRegistryServer({ tiny: tiny.directory });
      url = served.url;
    }, 120_000);

    afterAll(async () => {
      await served?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('use only metric names the server exports', async () => {
      const chat = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
      expect(chat.status).toBe(200);
      const exposition = await (await fetch(`${url}/metrics`)).text();
      const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => match[1]));

      const rules = parse(await readFile(rulesFile, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
      const used = new Map<string, string[]>();
      for (const rule of rules.groups.flatMap((group) => group.rules)) {
        for (const [name] of rule.expr.matchAll(/\bautoglm_[a-z0-9_]+/g)) {
          const base = name.replace(/_(bucket|count|sum)$/, '');
          used.set(base, [...(used.get(base) ?? []), rule.alert]);
        }
      }
      expect(used.size).toBeGreaterThanOrEqual(7);
      const missing = [...used].filter(([name]) => !exported.has(name)).map(([name, alerts]) => `${name} (${alerts.join(', ')})`);
      expect(missing).toEqual([]);
      // Values the rules compare are live: ready, a queue limit, zeroed failure counters.
      expect(exposition).toMatch(/^autoglm_ready 1$/m);
      expect(exposition).toContain('autoglm_server_queue_limit{model="tiny"} 17');
      expect(exposition).toContain('autoglm_model_updates_total{model="tiny",result="failure"} 0');
    });
  });
});
