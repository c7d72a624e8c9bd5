import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyGlm } from '../../src/index';

// Issue 18 item 3: GlmModel.load under common Node flags failed with ERR_WORKER_INVALID_EXEC_ARGV, because the
// model's worker thread was given an explicit execArgv holding flags a worker cannot take.
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const flags = ['--max-old-space-size=2048', '--expose-gc', '--abort-on-uncaught-exception'];
let root: string;
let directory: string;
let script: string;
let registeringScript: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'model-node-flags-'));
  directory = path.join(root, 'model');
  await createTinyGlm(directory, { seed: 9 });
  const body =
    `const model = await GlmModel.load(${JSON.stringify(directory)});\n` +
    `const result = await model.generate('hello', { maxNewTokens: 3, temperature: 0 });\n` +
    `await model.dispose();\n` +
    `console.log('generated', result.tokenIds.length);\n`;
  const tsxApi = JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href); // the ESM entry
  const source = JSON.stringify(pathToFileURL(path.join(repository, 'src', 'models', 'glm-model.ts')).href);
  // Run with `--import tsx` (a preload the worker's flags drop)...
  script = path.join(root, 'load.mts');
  await writeFile(script, `import { GlmModel } from ${source};\n${body}`);
  // ...and with no preload on the command line (tsx registered from inside), where the worker inherits the flags.
  registeringScript = path.join(root, 'load-registering.mjs');
  await writeFile(
    registeringScript,
    `const { register } = await import(${tsxApi});\nregister();\nconst { GlmModel } = await import(${source});\n${body}`,
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function runNode(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repository, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('GlmModel.load under common Node flags', () => {
  it.each(flags)('%s, with and without a preload', async (flag) => {
    const [preloaded, registering] = await Promise.all([
      runNode([flag, '--import', 'tsx', script]),
      runNode([flag, registeringScript]),
    ]);
    for (const child of [preloaded, registering]) {
      expect(child.stderr).not.toContain('ERR_WORKER_INVALID_EXEC_ARGV');
      expect(child.stderr).toBe('');
      expect(child.stdout).toContain('generated 3');
      expect(child.status).toBe(0);
    }
  });
});
