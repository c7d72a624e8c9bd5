/**
 * Where a workflow step's body runs. The runner stays the coordinator (scheduling, references, retries, timeouts,
 * failure policies, journal, nested workflows); an executor only runs one attempt of a tool or agent step and
 * returns its output: in this process ({@link LocalExecutor}) or on workers elsewhere (`BullmqExecutor`).
 */
import type { LanguageModel } from '../../models/language-model';
import type { ToolCaller } from '../../tools/tool';
import type { RunJournalStore } from './run-journal-store';
import type { AgentStepSpec } from '../workflow-spec';
import type { AgentRunner, StepContext } from '../workflow-types';

/** One attempt of a tool or agent step, with its references already resolved: plain JSON, so it can travel. */
export interface StepTask {
  runId: string;
  stepId: string;
  attempt: number;
  idempotencyKey: string;
  /** The tool a `uses:` step calls. */
  uses?: string;
  /** An `agent:` step's options. */
  agent?: AgentStepSpec;
  /** The step's `with:` arguments. */
  args: Record<string, unknown>;
  /** Whether it needs the model (agent steps, `usesModel` tool steps): it then runs where the model is. */
  modelBound: boolean;
  /** The step's per-attempt timeout, also enforced where the body runs. */
  timeoutMs?: number;
}

/** What the coordinating runner has: the local executor runs bodies on these; a remote one ignores them. */
export interface StepEnvironment {
  tools?: ToolCaller;
  agents?: AgentRunner;
  model?: LanguageModel;
  /** Shared by a run and its nested workflows when there is no model object to key the model queue on. */
  modelQueueKey: object;
}

export interface StepExecutor {
  /**
   * True when bodies run elsewhere: the coordinator then needs no tools, agents or model of its own (the workers
   * have them), and long runs should be journaled where the executor says ({@link journalStore}).
   */
  readonly remote: boolean;
  /** Where runs are journaled when the caller gives no `checkpointDir` (the BullMQ executor: in Redis). */
  readonly journalStore?: RunJournalStore;
  /** Called before a run starts (and before its journal is written): rejects when the executor cannot work. */
  prepare?(): Promise<void>;
  /**
   * Runs one attempt; resolves with the output, rejects with an AttemptError (or any error) to fail the attempt.
   * `ctx.signal` aborts on the step's timeout and on the run's cancellation.
   */
  execute(task: StepTask, ctx: StepContext, environment: StepEnvironment): Promise<unknown>;
}
