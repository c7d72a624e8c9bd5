/**
 * The tool contract shared by the registry, the agent and the workflow runner.
 */
import type { z } from 'zod';
import type { Logger } from '../observability/logger';
import type { LanguageModel } from '../models/language-model';

/** Sandboxed file access: every path is resolved inside the configured roots or refused. */
export interface FileAccess {
  /** The real, absolute path of `path` if it lies inside a root; throws PathOutsideSandboxError otherwise. */
  resolve(path: string): Promise<string>;
  /** The file's bytes; with `maxBytes`, at most that many from the start. */
  readFile(path: string, options?: ReadFileOptions): Promise<Uint8Array>;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  /** The entries of a directory, sorted by name. Optional: implementations without listing omit it. */
  list?(path: string): Promise<FileEntry[]>;
}

export interface ReadFileOptions {
  /** Read at most this many bytes from the start of the file. Defaults to the whole file. */
  maxBytes?: number;
}

export interface FileEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
}

export interface ToolContext {
  /** Aborted when the caller cancels or the tool's timeout passes. */
  signal: AbortSignal;
  logger: Logger;
  files: FileAccess;
  model?: LanguageModel;
  /** Stable across retries of the same attempt slot (`runId:stepId:attempt` in workflows), to deduplicate side effects. */
  idempotencyKey?: string;
  runId?: string;
  stepId?: string;
}

export interface Tool<Input = any, Output = any> {
  /** A dotted identifier, e.g. `pdf.extract`. */
  name: string;
  description: string;
  input: z.ZodType<Input>;
  output?: z.ZodType<Output>;
  /** Per-call timeout in ms; the registry's default applies when absent. */
  timeoutMs?: number;
  execute(args: Input, ctx: ToolContext): Promise<Output> | Output;
}

export interface ToolError {
  code: string;
  message: string;
  /** Validation issues (path + message) for TOOL_INPUT errors. */
  issues?: Array<{ path: string; message: string }>;
}

export type ToolResult<Output = unknown> = { ok: true; value: Output } | { ok: false; error: ToolError };

export interface ToolCallOptions {
  signal?: AbortSignal;
  logger?: Logger;
  model?: LanguageModel;
  idempotencyKey?: string;
  runId?: string;
  stepId?: string;
  timeoutMs?: number;
}

/** What the agent and the workflow runner need from a registry. */
export interface ToolCaller {
  has(name: string): boolean;
  call(name: string, args: unknown, options?: ToolCallOptions): Promise<ToolResult>;
}
