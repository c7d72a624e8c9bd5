/**
 * Every error autoglm throws or returns. `code` is stable across versions and is what callers branch on;
 * `details` carries the structured facts (file, step, field, ...) that the message names. Messages say what was
 * wrong, where, and what to do.
 */

export interface AutoglmErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Every code autoglm uses: the codes of the error classes below, and the codes that travel only as values (a
 * step's or tool's `error.code`, an agent observation). Branch on these; they are stable across versions.
 */
export type ErrorCode =
  // error classes
  | 'AUTOGLM'
  | 'MODEL_LOAD'
  | 'MODEL_FORMAT'
  | 'TOKENIZER'
  | 'GENERATION'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_INPUT'
  | 'TOOL_TIMEOUT'
  | 'TOOL_EXECUTION'
  | 'TOOL_REGISTRY'
  | 'PLUGIN_LOAD'
  | 'DOCUMENT'
  | 'PATH_OUTSIDE_SANDBOX'
  | 'WORKFLOW_SPEC'
  | 'WORKFLOW_RUN'
  | 'CHECKPOINT'
  | 'AGENT'
  | 'ABORT'
  | 'AGENT_OUTPUT'
  | 'USAGE'
  | 'AI_SDK_PROVIDER'
  | 'AGENT_INPUT'
  | 'SERVER_REQUEST'
  | 'SERVER_BUSY'
  | 'SERVER_CONFIG'
  | 'MODEL_REGISTRY'
  | 'MODEL_UPDATE'
  | 'MODEL_ROLLBACK'
  | 'ZOD_VERSION'
  | 'CHAT_TEMPLATE'
  | 'MCP_SERVER'
  | 'TOOL_APPROVAL'
  | 'KV_SNAPSHOT'
  | 'SEARCH_OPTIONS'
  | 'EXECUTOR'
  // workflow step failures (StepErrorValue.code)
  | 'STEP_TIMEOUT'
  | 'STEP_FAILED'
  | 'STEP_ERROR'
  | 'STEP_PAYLOAD_TOO_LARGE'
  | 'STEP_STALLED'
  // agent observations written back to the model (ToolError.code inside an agent run)
  | 'PLAN_INVALID'
  | 'OUTPUT_INVALID'
  | 'TOOL_CALL_FORMAT'
  | 'REPEATED_CALL'
  | 'LOOP'
  | 'TOOL_DENIED';

const markerPrefix = 'autoglm.error.';

/** The class shape `isInstance` needs: a stable code and the instances it makes. */
interface ErrorClass<Instance> {
  readonly code: string;
  readonly prototype: Instance;
}

export class AutoglmError extends Error {
  /** The stable code of this class; each subclass overrides it. */
  static readonly code: ErrorCode = 'AUTOGLM';

  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, options: AutoglmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = (new.target as typeof AutoglmError).code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
    // One `Symbol.for` marker per class in the chain, so `isInstance` works across duplicated copies of the
    // package (CJS and ESM builds, two versions in node_modules), where `instanceof` does not.
    let c = new.target as { code?: unknown } | null;
    while (c !== null && typeof c.code === 'string') {
      Object.defineProperty(this, Symbol.for(markerPrefix + c.code), { value: true });
      if (c === (AutoglmError as unknown)) break;
      c = Object.getPrototypeOf(c) as { code?: unknown } | null;
    }
  }

  /**
   * True for an error of this class or a subclass, also from another copy of the package:
   * `ModelLoadError.isInstance(error)`, `AutoglmError.isInstance(error)`.
   */
  static isInstance<Instance>(this: ErrorClass<Instance>, value: unknown): value is Instance {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[Symbol.for(markerPrefix + this.code)] === true
    );
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: { ...this.details } };
  }
}

/** A model directory, file or execution provider that could not be loaded (missing file, unavailable provider). */
export class ModelLoadError extends AutoglmError { static override readonly code = 'MODEL_LOAD'; }
/** A model file whose content is wrong: corrupt ONNX bytes, an invalid config.json, a graph lacking expected inputs. */
export class ModelFormatError extends AutoglmError { static override readonly code = 'MODEL_FORMAT'; }
/** A tokenizer or chat template that is missing or cannot be used. */
export class TokenizerError extends AutoglmError { static override readonly code = 'TOKENIZER'; }
/** Generation asked for something impossible: bad options, a disposed model, a prompt longer than the context. */
export class GenerationError extends AutoglmError { static override readonly code = 'GENERATION'; }
/** A tool name that is not registered. */
export class ToolNotFoundError extends AutoglmError { static override readonly code = 'TOOL_NOT_FOUND'; }
/** Tool arguments (or a tool's output) that do not match the tool's schema. */
export class ToolInputError extends AutoglmError { static override readonly code = 'TOOL_INPUT'; }
/** A tool that did not finish within its timeout (its signal was aborted). */
export class ToolTimeoutError extends AutoglmError { static override readonly code = 'TOOL_TIMEOUT'; }
/** A tool that threw while executing. */
export class ToolExecutionError extends AutoglmError { static override readonly code = 'TOOL_EXECUTION'; }
/** Misuse of a ToolRegistry, such as registering a duplicate name. */
export class ToolRegistryError extends AutoglmError { static override readonly code = 'TOOL_REGISTRY'; }
/** A plugin that could not be imported or does not have the plugin shape. */
export class PluginLoadError extends AutoglmError { static override readonly code = 'PLUGIN_LOAD'; }
/** A document that cannot be read: not a PDF, truncated, encrypted, empty, or over the configured limits. */
export class DocumentError extends AutoglmError { static override readonly code = 'DOCUMENT'; }
/** A file path that resolves outside the configured roots. */
export class PathOutsideSandboxError extends AutoglmError { static override readonly code = 'PATH_OUTSIDE_SANDBOX'; }
/** An invalid workflow spec: unknown step or tool, cycle, bad reference, bad type. Names the step and field. */
export class WorkflowSpecError extends AutoglmError { static override readonly code = 'WORKFLOW_SPEC'; }
/** A workflow run that could not go on: a `${{ }}` reference to a missing output field, a missing agent runner. */
export class WorkflowRunError extends AutoglmError { static override readonly code = 'WORKFLOW_RUN'; }
/** A checkpoint journal that cannot be used (missing run, other spec version, unwritable directory). */
export class CheckpointError extends AutoglmError { static override readonly code = 'CHECKPOINT'; }
/** Misuse of an AutoAgent (bad options, unknown task preset). */
export class AgentError extends AutoglmError { static override readonly code = 'AGENT'; }
/** Work cancelled through an AbortSignal. */
export class AbortError extends AutoglmError { static override readonly code = 'ABORT'; }
/** An agent run whose final answer does not match the agent's output schema (only possible unconstrained or truncated). */
export class AgentOutputError extends AutoglmError { static override readonly code = 'AGENT_OUTPUT'; }
/** A command line that cannot be run: unknown command or option, missing or malformed argument. */
export class UsageError extends AutoglmError { static override readonly code = 'USAGE'; }
/** A schema from zod 3 where autoglm needs zod 4 (its peer dependency): zod 3 objects lack the `_zod` internals. */
export class ZodVersionError extends AutoglmError { static override readonly code = 'ZOD_VERSION'; }
/**
 * A chat template that cannot serve this model: it fails to render, runs past its time or size limit, drops a
 * message, or cannot carry what a conversation needs (tools, a recorded call).
 */
export class ChatTemplateError extends AutoglmError { static override readonly code = 'CHAT_TEMPLATE'; }
/**
 * An HTTP request the server refuses: `details.status` is the HTTP status, `details.param` the request field at
 * fault (OpenAI's error `param`), `details.type` OpenAI's error `type`.
 */
export class ServerRequestError extends AutoglmError { static override readonly code = 'SERVER_REQUEST'; }
/** A model's request queue is full: retry after `details.retryAfterSeconds` (HTTP 429 with Retry-After). */
export class ServerBusyError extends AutoglmError { static override readonly code = 'SERVER_BUSY'; }
/** Server options that cannot be served safely or at all (a public host without an API key, a bad port). */
export class ServerConfigError extends AutoglmError { static override readonly code = 'SERVER_CONFIG'; }
/** Misuse of a ModelRegistry (unknown model name, invalid name or option) or an unreadable registry file. */
export class ModelRegistryError extends AutoglmError { static override readonly code = 'MODEL_REGISTRY'; }
/** A model update whose new version failed to load or warm up; the version that was serving keeps serving. */
export class ModelUpdateError extends AutoglmError { static override readonly code = 'MODEL_UPDATE'; }
/** A rollback that cannot happen: no previous version, or the previous version failed to load again. */
export class ModelRollbackError extends AutoglmError { static override readonly code = 'MODEL_ROLLBACK'; }
/** An agent run's input that cannot be used: a missing, unreadable or non-regular `inputFile`, or none where the task needs one. */
export class AgentInputError extends AutoglmError { static override readonly code = 'AGENT_INPUT'; }
/** An AI SDK call the autoglm provider cannot serve (a file part, a provider-executed tool, an unknown model id). */
export class AiSdkProviderError extends AutoglmError { static override readonly code = 'AI_SDK_PROVIDER'; }
/**
 * An MCP server that cannot be reached or stopped answering: it failed to start, its process exited or its
 * connection closed. `details.server` names it; the next call to one of its tools reconnects.
 */
export class McpServerError extends AutoglmError { static override readonly code = 'MCP_SERVER'; }
/**
 * Approval decisions that cannot be applied: a decision for a call that is not pending, a pending call without a
 * decision, two decisions for one call, a malformed decision or paused state, or decisions for a run that is not
 * waiting for any. `details.kind` says which (`unknown-call`, `missing-decision`, `duplicate-decision`, `malformed`,
 * `not-suspended`), `details.ids` the call ids at fault.
 */
export class ToolApprovalError extends AutoglmError { static override readonly code = 'TOOL_APPROVAL'; }
/**
 * A KV snapshot file that cannot be written or loaded: unreadable, truncated, corrupt (checksum), of another format
 * version, or saved from another model (`details.file`, `details.reason`). Delete the file; the next generation then
 * prefills its whole prompt.
 */
export class KvSnapshotError extends AutoglmError { static override readonly code = 'KV_SNAPSHOT'; }
/** pdf.search index options that cannot be used: an unknown option or ranking weight, or a weight that is not a finite number. */
export class SearchOptionsError extends AutoglmError { static override readonly code = 'SEARCH_OPTIONS'; }
/**
 * A workflow executor that cannot work as configured: a bad Redis URL or option of the BullMQ executor or worker,
 * or a run whose journal store is unreachable. `details` names the option.
 */
export class ExecutorError extends AutoglmError { static override readonly code = 'EXECUTOR'; }
