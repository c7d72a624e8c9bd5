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
  /**
   * Whether a call the model makes needs a person's approval before it runs (see docs/tools.md). The agent pauses
   * before such a call with finishReason `approval-required`. Defaults to false (no approval).
   */
  needsApproval?: ToolApprovalPolicy<Input>;
  execute(args: Input, ctx: ToolContext): Promise<Output> | Output;
}

/** What a `needsApproval` function is told about the call besides its (validated) arguments. */
export interface ToolApprovalContext {
  /** The id the pending call gets in the agent's result (`call-<step>-<n>`). */
  callId: string;
  /** The agent run's id. */
  runId?: string;
  stepId?: string;
}

/**
 * `true`: every call needs approval; `false`: none does; a function decides per call from the validated arguments
 * (it may be async). A function that throws or returns anything but a boolean counts as `true`: when in doubt, ask.
 */
export type ToolApprovalPolicy<Input = any> = boolean | ((args: Input, context: ToolApprovalContext) => boolean | Promise<boolean>);

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
  /**
   * Whether this call, made by a model, needs a person's approval before `call` runs it. ToolRegistry has it; a
   * caller without it runs every call without asking.
   */
  needsApproval?(name: string, args: unknown, context: ToolApprovalContext): Promise<boolean>;
}
