/**
 * The offline proof: a whole financial-report job runs in a child process that cannot reach the network, succeeds,
 * and makes zero connection attempts. Two fences: a network namespace without interfaces (`unshare -n`, where the
 * machine allows it) and, always, a preload (fixtures/network-guard.mjs, through NODE_OPTIONS so every node child
 * gets it too) that makes net/tls/dns/http(s)/http2/dgram/fetch throw and records each attempt to a file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guard = pathToFileURL(path.join(repoRoot, 'test/offline/fixtures/network-guard.mjs')).href;

/**
 * The job proven offline: the README's example, `autoglm run examples/financial-report/workflow.yaml`, run from the
 * repository root; `{work}` becomes a fresh temp directory (the CLI builds its tiny model into $AUTOGLM_CACHE_DIR,
 * which points there too).
 */
const offlineJob = [
  'bin/autoglm.mjs', 'run', 'examples/financial-report/workflow.yaml', '--json',
  '--root', '{work}/out', '--input', 'outputDir={work}/out', '--metrics-file', '{work}/out/metrics.prom',
];

const canUnshare = process.platform === 'linux' && spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
const workDirs: string[] = [];

function newWorkDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'autoglm-offline-'));
  workDirs.push(dir);
  return dir;
}

/** Runs `node <args>` with the guard preloaded (and in an empty network namespace when possible). */
function runGuarded(args: string[], work: string, options: { namespace: boolean }) {
  const log = path.join(work, 'network-attempts.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${guard}`].filter(Boolean).join(' '),
    AUTOGLM_NETWORK_LOG: log,
    AUTOGLM_CACHE_DIR: path.join(work, 'cache'),
    // Whatever a library might consult to go online is pointed nowhere.
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
  };
  const nodeArgs = args.map((arg) => arg.replaceAll('{work}', work));
  const [command, commandArgs] = options.namespace ? ['unshare', ['-n', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawnSync(command, commandArgs, { cwd: repoRoot, env, encoding: 'utf8', timeout: 170_000, maxBuffer: 64 * 1024 * 1024 });
  const attempts = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { api: string; kind: 'network' | 'ipc'; target: string })
    : undefined;
  return { status: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr, attempts };
}

function parseOutcome(stdout: string): { status?: string; outputs?: Record<string, unknown> } {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as { status?: string; outputs?: Record<string, unknown> };
  } catch {
    const lines = text.split('\n');
    return JSON.parse(lines[lines.length - 1]) as { status?: string; outputs?: Record<string, unknown> };
  }
}

afterAll(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

describe('offline guard', () => {
  it('blocks and records fetch, net, tls, dns, http(s) and ESM named imports of node:net', () => {
    const work = newWorkDir();
    const probe = `
      import { connect as namedConnect } from 'node:net';
      import net from 'node:net';
      import tls from 'node:tls';
      import dns from 'node:dns';
      import http from 'node:http';
      import https from 'node:https';
      const tries = {
        fetch: () => fetch('http://127.0.0.1:9/'),
        netConnect: () => net.connect(9, '127.0.0.1'),
        namedConnect: () => namedConnect({ host: '127.0.0.1', port: 9 }),
        socketConnect: () => new net.Socket().connect(9, '127.0.0.1'),
        tlsConnect: () => tls.connect(443, 'example.com'),
        dnsLookup: () => dns.lookup('example.com', () => {}),
        dnsPromises: () => dns.promises.lookup('example.com'),
        httpGet: () => http.get('http://127.0.0.1:9/'),
        httpsRequest: () => https.request('https://example.com/'),
      };
      const codes = {};
      for (const [name, attempt] of Object.entries(tries)) {
        try { await attempt(); codes[name] = 'not blocked'; } catch (error) { codes[name] = error.code; }
      }
      console.log(JSON.stringify(codes));
    `;
    const result = runGuarded(['--input-type=module', '-e', probe], work, { namespace: false });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const codes = JSON.parse(result.stdout.trim()) as Record<string, string>;
    expect(Object.keys(codes)).toHaveLength(9);
    for (const code of Object.values(codes)) expect(code).toBe('ERR_NETWORK_BLOCKED');
    expect(result.attempts?.map((attempt) => attempt.api)).toEqual([
      'fetch',
      'net.connect',
      'net.connect',
      'net.Socket.connect',
      'tls.connect',
      'dns.lookup',
      'dns.promises.lookup',
      'http.get',
      'https.request',
    ]);
    expect(result.attempts?.[0].target).toContain('127.0.0.1:9');
    expect(result.attempts?.every((attempt) => attempt.kind === 'network')).toBe(true);
  });

  it.skipIf(!canUnshare)('the network namespace has no route out even without the guard', () => {
    const probe = `
      const net = require('node:net');
      const socket = net.connect(80, '1.1.1.1');
      socket.on('error', (error) => { console.log(error.code); process.exit(0); });
      socket.on('connect', () => { console.log('connected'); process.exit(0); });
    `;
    const child = spawnSync('unshare', ['-n', process.execPath, '-e', probe], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('ENETUNREACH');
  });
});

describe('offline proof', () => {
  it(`runs the financial-report job to success with zero network connection attempts${canUnshare ? ' (in a network namespace)' : ' (guard only: unshare -n is not allowed here)'}`, () => {
    const work = newWorkDir();
    const result = runGuarded(offlineJob, work, { namespace: canUnshare });
    const context = `exit ${result.status} ${result.signal ?? ''}\nstderr:\n${result.stderr.slice(-4000)}`;
    expect(result.status, context).toBe(0);
    // The guard was loaded (it creates the log) and recorded no network attempt.
    expect(result.attempts, 'the network guard did not load').toBeDefined();
    expect(result.attempts!.filter((attempt) => attempt.kind !== 'ipc')).toEqual([]);
    // The only local IPC allowed is tsx's loader knocking on its parent's watch-mode pipe (/tmp/tsx-UID/PPID.pipe),
    // which the guard refused like everything else; the job itself opens no socket of any kind.
    for (const attempt of result.attempts!) expect(attempt.target).toMatch(/[\\/]tsx-\d+[\\/]\d+\.pipe$/);

    // One JSON document on stdout: a single line (the fixture) or pretty-printed (`autoglm run --json`).
    const outcome = parseOutcome(result.stdout);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.outputs?.summary).toBeDefined();

    // The figures are real whatever the tiny model writes: eBay's Q1 2023 release, read by finance.keyFigures.
    const report = JSON.parse(readFileSync(path.join(work, 'out/report.json'), 'utf8')) as {
      revenue: { value: number; unit: string; page: number };
      netIncome: { value: number; unit: string; page: number };
    };
    expect(report.revenue).toMatchObject({ value: 2510, unit: 'millions', page: 8 });
    expect(report.netIncome).toMatchObject({ value: 567, unit: 'millions', page: 8 });
    expect(readFileSync(path.join(work, 'out/report.md'), 'utf8').length).toBeGreaterThan(0);
    const metrics = readFileSync(path.join(work, 'out/metrics.prom'), 'utf8');
    expect(metrics).toContain('autoglm_tool_calls_total{tool="pdf.extract"} 1');
    expect(metrics).toMatch(/autoglm_tokens_generated_total\{family="glm"\} [1-9]/);
  }, 180_000);
});
