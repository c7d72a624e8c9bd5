/**
 * Runs the `autoglm` CLI: as a child process, the way a user does (`node bin/autoglm.mjs ...`), or in process
 * through `main` with captured output streams.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';

export const repositoryRoot = path.resolve(import.meta.dirname, '../..');
export const bin = path.join(repositoryRoot, 'bin', 'autoglm.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd ?? repositoryRoot, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `main(args)` in this process with captured stdout and stderr. */
export async function callMain(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await main(args, { stdout, stderr, cwd: options.cwd, env: options.env });
  return { code, stdout: out, stderr: err };
}

