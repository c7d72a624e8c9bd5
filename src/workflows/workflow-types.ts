import type { ErrorCode } from '../errors';
import type { Logger } from '../observability/logger';
import type { AutoglmMetrics } from '../observability/metrics';
import type { LanguageModel } from '../models/language-model';
import type { ToolCaller } from '../tools/tool';
import type { PendingToolApproval, ToolApprovalDecision } from '../agent/tool-approval';
import type { AgentStepSpec, StepSpec } from './workflow-spec';
import type { StepExecutor } from './executors/step-executor';

/**
 * `pending` never started; `running` in flight; `succeeded`/`failed` after its last attempt; `skipped` when its
 * `if` was false, a need was skipped or failed with `skip-dependents`, or the run stopped before it; `cancelled`
 * when the run's signal stopped it; `suspended` when its agent waits for a person's approval of a tool call.
 */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'suspended';

/**
 * `suspended`: a step waits for approval and nothing else could run; the journal holds the pending calls, and
 * `Workflow.resume(runId, { checkpointDir, decisions })` continues the run.
 */
export type RunStatus = 'succeeded' | 'failed' | 'cancelled' | 'suspended';

/** A tool call of a suspended run that waits for a decision. */
export interface WorkflowPendingApproval extends PendingToolApproval {
  /** `<stepId>.<callId>`: what `decisions` and `autoglm run --approve` name. */
  id: string;
  stepId: string;
  /** The call's id within the step's agent run (`call-<agent step>-<n>`). */
  callId: string;
}

/** A decision for one pending call of a suspended run (`id` as in `pendingApprovals`). */
export type WorkflowApprovalDecision = ToolApprovalDecision;

/** A step failure as a value: the tool's error code (TOOL_INPUT, TOOL_EXECUTION, ...), STEP_TIMEOUT, or STEP_ERROR. */
export interface StepErrorValue {
  /** One of {@link ErrorCode}, or a plugin tool's own code. */
  code: ErrorCode | (string & {});
  message: string;
}

export interface StepResult {
  status: StepStatus;
  /** Attempts made (the number of the last one); 0 if it never ran. */
  attempts: number;
  output?: unknown;
  error?: StepErrorValue;
  /** Epoch ms of the first attempt's start. */
  startedAt?: number;
  /** Epoch ms of the step's end. */
  endedAt?: number;
  /** Why a step was skipped (`condition`, `needs`, `stopped`). */
  reason?: string;
  /** A suspended step's calls that wait for a decision. */
  pendingApprovals?: WorkflowPendingApproval[];
  /** An agent step of a checkpointed run: the KV snapshot its last attempt started from (StepKvUsage). */
  kv?: StepKvUsage;
}

export interface WorkflowRunResult {
  runId: string;
  workflow: string;
  status: RunStatus;
  steps: Record<string, StepResult>;
  /** The spec's `outputs` resolved; without `outputs`, every succeeded step's output by id. */
  outputs: Record<string, unknown>;
  startedAt: number;
  endedAt: number;
  /** With status `suspended`: every call that waits for a decision, over all suspended steps. */
  pendingApprovals?: WorkflowPendingApproval[];
}

/** What a step's tool, agent or nested workflow receives besides its arguments. */
export interface StepContext {
  runId: string;
  stepId: string;
  /** 1 for the first attempt. A step re-run after a crash keeps the attempt number it had. */
  attempt: number;
  /** `runId:stepId:attempt`: the same when a crashed attempt is run again, so tools can deduplicate side effects. */
  idempotencyKey: string;
  /** Aborted on the step's timeout or the run's cancellation. */
  signal: AbortSignal;
  logger: Logger;
  model?: LanguageModel;
  /**
   * Set when the step continues after a suspension: the `state` its runner suspended with (StepSuspension) and
   * the decisions for its pending calls, ids as the runner gave them (without the `<stepId>.` prefix).
   */
  resume?: { state: unknown; decisions: ToolApprovalDecision[] };
  /** For an agent step of a checkpointed run: where it keeps its model's KV snapshot, beside the run's journal. */
  kvSnapshot?: StepKvSnapshot;
}

/** Where an agent step keeps its model's KV snapshot, and how it reports what the snapshot saved. */
export interface StepKvSnapshot {
  /** `<checkpointDir>/<runId>.kv/<stepId>.kvs`. */
  file: string;
  /** Records what the attempt started from: shown on the step's result, its `step-end` event and journal record. */
  report(usage: StepKvUsage): void;
}

/** What an agent step's KV snapshot saved the attempt that started from it (a run resumed after a crash). */
export interface StepKvUsage {
  /** Positions loaded from the step's snapshot before the attempt's first generation; 0 without one. */
  snapshotTokens: number;
  /** Why a snapshot that was there was not used (another model's, corrupt, truncated). */
  snapshotIgnored?: string;
  /** Prompt tokens the attempt's first generation ran through the model. */
  prefillTokens: number;
  /** Prompt tokens of that generation whose KV came from the cache (the snapshot). */
  cachedTokens: number;
}

/**
 * Runs an agent step: `agent` is the step's `agent:` object and `input` its `with:` arguments, both with references
 * resolved. Resolve to the step's output; throw (or reject) to fail the attempt.
 */
export type AgentRunner = (agent: AgentStepSpec, input: Record<string, unknown>, ctx: StepContext) => Promise<unknown>;

export type WorkflowEvent =
  | {
      type: 'run-start';
      runId: string;
      workflow: string;
      resumed: boolean;
      at: number;
      /** The model version this (part of the) run uses, when the caller gave `modelVersion`. */
      modelVersion?: string;
      /** On a resumed run: the model version the run started on (it may differ after a model update). */
      startedOnModelVersion?: string;
    }
  | { type: 'step-start'; runId: string; stepId: string; attempt: number; at: number }
  | { type: 'step-retry'; runId: string; stepId: string; attempt: number; error: StepErrorValue; delayMs: number; at: number }
  /** The step waits for approval of these calls (journaled); it continues on `Workflow.resume` with decisions. */
  | { type: 'step-suspend'; runId: string; stepId: string; attempt: number; pendingApprovals: WorkflowPendingApproval[]; at: number }
  | {
      type: 'step-end';
      runId: string;
      stepId: string;
      status: StepStatus;
      attempts: number;
      output?: unknown;
      error?: StepErrorValue;
      /** An agent step of a checkpointed run: the KV snapshot its attempt started from, and what it prefilled. */
      kv?: StepKvUsage;
      at: number;
    }
  | { type: 'run-end'; runId: string; status: RunStatus; at: number };

export interface WorkflowRunOptions {
  /** The ToolRegistry (anything with `has` and `call`) that `uses:` steps call. Required when a step uses a tool. */
  tools?: ToolCaller;
  /** Values of the spec's `inputs`; declared defaults fill the gaps. Defaults to `{}`. */
  inputs?: Record<string, unknown>;
  /** Steps running at once. Defaults to the spec's `concurrency`, else 4. */
  concurrency?: number;
  /** Directory of the per-run journals; without it nothing is persisted and the run cannot be resumed. */
  checkpointDir?: string;
  /** A caller-chosen id (letters, digits, `.`, `_`, `-`); generated when absent. */
  runId?: string;
  /** Cancels the run: running steps are aborted and the run ends `cancelled` (a checkpointed run can be resumed). */
  signal?: AbortSignal;
  /** pino logger; lines carry `runId` and `stepId`. Defaults to a silent logger. */
  logger?: Logger;
  /** The model handed to tools and agents; model-bound steps on it run as many at once as it runs sequences (`LanguageModel.sequences`, else 1). */
  model?: LanguageModel;
  /**
   * The version of `model` (for example a ModelRegistry version id), journaled in the run header and in every
   * resume record, so a run resumed after a model update says which version it continues on. Defaults to none.
   */
  modelVersion?: string;
  /**
   * Runs `agent:` steps. Defaults (when `model` is given) to `createWorkflowAgentRunner({ model, files, tools })`:
   * an AutoAgent on `model`, reading files through `tools`' sandbox. Give one to choose agents' tools or roots.
   */
  agents?: AgentRunner;
  /** Called synchronously for every event, in order. */
  onEvent?: (event: WorkflowEvent) => void;
  /**
   * Records the run in these metrics (step latency, retries, run status, workflow queue depth, tool calls by tool)
   * and as OpenTelemetry spans (run > step > tool call / agent work). Wrap the model with `instrumentModel` for
   * generation metrics. Defaults to none.
   */
  metrics?: AutoglmMetrics;
  /** Source of retry jitter in [0, 1). Defaults to Math.random; pass `seededRandom(n)` for reproducible runs. */
  random?: () => number;
  /**
   * Where step bodies run: in this process (the default, a `LocalExecutor`), or on workers of other processes and
   * machines (`new BullmqExecutor({ connection })`, see docs/scale-out.md). Without `checkpointDir`, a remote
   * executor's own journal store (Redis) journals the run, so `Workflow.resume(runId, { executor })` continues it.
   */
  executor?: StepExecutor;
}

export type { StepSpec };
