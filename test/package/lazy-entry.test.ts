/**
 * Importing autoglm (or one of its layer entries) loads no native code: ONNX Runtime's binding is mapped only when a
 * model is first loaded. Each check runs in a fresh child process and reads that process's own /proc/self/maps;
 * the positive control (a model load maps the binding) proves the check can fail.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const source = (file: string) => JSON.stringify(pathToFileURL(path.join(root, 'src', file)).href);

interface ChildReport {
  nativeBefore: string[];
  nativeAfter: string[];
  exports: string[];
}

/** Runs `body` (an ES module) in a child process under tsx, with `nativeLibraries()` reading /proc/self/maps. */
function runChild(body: string): Promise<ChildReport> {
  const program = `
    import { readFileSync } from 'node:fs';
    const nativeLibraries = () => [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((line) => line.trim().split(/\\s+/).slice(5).join(' '))
      .filter((file) => /onnxruntime|\\.node$/.test(file)))];
    ${body}
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', program],
      { cwd: root, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`child failed: ${error.message}\n${stderr}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        resolve(JSON.parse(line) as ChildReport);
      },
    );
  });
}

describe.runIf(process.platform === 'linux')('lazy entry points', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'autoglm-lazy-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('importing the main entry maps no native library; loading a model maps ONNX Runtime', async () => {
    const report = await runChild(`
      const autoglm = await import(${source('index.ts')});
      const nativeBefore = nativeLibraries();
      await autoglm.createTinyGlm(${JSON.stringify(directory)}, { layers: 1, hiddenSize: 32, heads: 2, kvHeads: 1, seed: 1 });
      const model = await autoglm.GlmModel.load(${JSON.stringify(directory)}, { runIn: 'main' });
      const nativeAfter = nativeLibraries();
      await model.dispose();
      console.log(JSON.stringify({ nativeBefore, nativeAfter, exports: Object.keys(autoglm) }));
    `);
    expect(report.nativeBefore).toEqual([]);
    expect(report.nativeAfter.some((file) => /onnxruntime/.test(file))).toBe(true);
    expect(report.exports).toEqual(expect.arrayContaining(['GlmModel', 'ToolRegistry', 'AutoAgent', 'Workflow', 'AutoglmMetrics']));
  });

  it.each(['models', 'tools', 'agent', 'workflows', 'observability', 'testing'])(
    'the %s entry imports without native code',
    async (layer) => {
      const report = await runChild(`
        const entry = await import(${source(`${layer}/index.ts`)});
        console.log(JSON.stringify({ nativeBefore: nativeLibraries(), nativeAfter: [], exports: Object.keys(entry) }));
      `);
      expect(report.nativeBefore).toEqual([]);
      expect(report.exports.length).toBeGreaterThan(0);
    },
  );
});
