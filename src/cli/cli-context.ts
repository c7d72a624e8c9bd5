/**
 * What a command writes to and how: stdout for results, stderr for progress and errors. Tests call `main` with
 * their own streams.
 */
import type { Writable } from 'node:stream';

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  /** Directory relative paths resolve against. Defaults to process.cwd(). */
  cwd: string;
  /** Environment (AUTOGLM_CACHE_DIR). Defaults to process.env. */
  env: NodeJS.ProcessEnv;
}

export function processContext(): CliContext {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

/** A command: parses its own arguments, returns the exit code. */
export type Command = (args: string[], context: CliContext) => Promise<number>;

/** `suspended`: a workflow run waits for a person's approval of a tool call (`autoglm run --resume ... --approve`). */
export const exitCodes = { ok: 0, failed: 1, usage: 2, suspended: 3 } as const;
