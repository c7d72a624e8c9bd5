/**
 * Runs one workflow spec: a DAG scheduled on p-queue. A step is scheduled when all its needs have ended; each
 * attempt takes a queue slot (model-bound attempts also take the model's queue, as many at once as it runs sequences), waits between retries
 * happen outside the queue, and every step end is journaled (fsync'd) before its dependents are scheduled.
 */
import PQueue from 'p-queue';
import { AutoglmError } from '../errors';
import type { Logger } from '../observability/logger';
import type { LanguageModel } from '../models/language-model';
import type { ToolCaller } from '../tools/tool';
import { truthy, evaluateExpression, parseExpression } from './expression';
import { resolveInputs } from './resolve-inputs';
import { AttemptError, permanentCodes, toErrorValue } from './attempt-error';
import { retryDelay } from './retry-delay';
import { StepSuspension } from './step-suspension';
import { withDeadline } from '../with-deadline';
import type { RecoveredStep } from './recover-run';
import type { JournalRecord } from './run-journal';
import type { RunJournalWriter } from './executors/run-journal-store';
import type { StepExecutor, StepTask } from './executors/step-executor';
import { conditionExpression, resolveTemplates } from './template';
import type { StepSpec, WorkflowSpec } from './workflow-spec';
import type {
  AgentRunner,
  RunStatus,
  StepContext,
  StepErrorValue,
  StepResult,
  WorkflowEvent,
  WorkflowRunResult,
} from './workflow-types';

export interface WorkflowRunnerOptions {
  runId: string;
  inputs: Record<string, unknown>;
  concurrency: number;
  tools?: ToolCaller;
  agents?: AgentRunner;
  model?: LanguageModel;
  /** Shared by a run and its nested workflows when there is no model object to key the queue on. */
  modelQueueKey: object;
  logger: Logger;
  signal?: AbortSignal;
  journal?: RunJournalWriter;
  /** Runs each attempt's body: in this process (LocalExecutor) or on workers (BullmqExecutor). */
  executor: StepExecutor;
  onEvent?: (event: WorkflowEvent) => void;
  random: () => number;
  /** Steps already ended (or interrupted) in an earlier process, from the journal. */
  recovered?: Map<string, RecoveredStep>;
  resumed?: boolean;
  modelVersion?: string;
  /** A resumed run's model version at its start (journal header). */
  startedOnModelVersion?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class WorkflowRunner {
  readonly #spec: WorkflowSpec;
  readonly #options: WorkflowRunnerOptions;
  readonly #queue: PQueue;
  readonly #steps = new Map<string, StepSpec>();
  readonly #dependents = new Map<string, StepSpec[]>();
  readonly #waitingOn = new Map<string, number>();
  readonly #results: Record<string, StepResult> = {};
  readonly #controller = new AbortController();
  readonly #logger: Logger;
  readonly #startedAt = Date.now();
  #active = 0;
  #stopping = false;
  #fatal: unknown;
  #finish!: (result: WorkflowRunResult) => void;
  #fail!: (error: unknown) => void;

  constructor(spec: WorkflowSpec, options: WorkflowRunnerOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.#logger = options.logger.child({ runId: options.runId, workflow: spec.name });
    for (const step of spec.steps) {
      this.#steps.set(step.id, step);
      this.#results[step.id] = { status: 'pending', attempts: 0 };
      for (const need of step.needs) {
        let list = this.#dependents.get(need);
        if (list === undefined) this.#dependents.set(need, (list = []));
        list.push(step);
      }
    }
  }

  /** Runs every step that has not ended yet; resolves when the run ends (never rejects on step failures). */
  execute(): Promise<WorkflowRunResult> {
    const done = new Promise<WorkflowRunResult>((resolve, reject) => {
      this.#finish = resolve;
      this.#fail = reject;
    });
    const { signal, recovered } = this.#options;
    const onAbort = () => this.#cancel();
    if (signal?.aborted) this.#cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // `.then(f, f)`, not `.finally`: finally makes a second promise that rejects with the run's error (a journal
    // write failing with ENOSPC), unobserved, which crashes the process after the caller already handled it.
    const detach = () => signal?.removeEventListener('abort', onAbort);
    done.then(detach, detach);

    const versions = {
      ...(this.#options.modelVersion === undefined ? {} : { modelVersion: this.#options.modelVersion }),
      ...(this.#options.startedOnModelVersion === undefined ? {} : { startedOnModelVersion: this.#options.startedOnModelVersion }),
    };
    this.#emit({ type: 'run-start', runId: this.#options.runId, workflow: this.#spec.name, resumed: this.#options.resumed ?? false, at: Date.now(), ...versions });
    this.#logger.info({ resumed: this.#options.resumed ?? false, ...versions }, 'run-start');
    for (const [id, step] of recovered ?? []) {
      if (!this.#steps.has(id)) continue;
      Object.assign(this.#results[id], step.result);
      // A `fail` step that failed before the crash already decided the run: start nothing new.
      if (step.result.status === 'failed' && this.#steps.get(id)!.onFailure === 'fail') this.#stopping = true;
    }
    const ready: StepSpec[] = [];
    for (const step of this.#spec.steps) {
      if (this.#ended(step.id)) continue;
      const waiting = step.needs.filter((need) => !this.#ended(need)).length;
      this.#waitingOn.set(step.id, waiting);
      if (waiting === 0) ready.push(step);
    }
    this.#active++;
    for (const step of ready) this.#schedule(step);
    this.#release();
    return done;
  }

  #ended(id: string): boolean {
    const status = this.#results[id].status;
    return status === 'succeeded' || status === 'failed' || status === 'skipped';
  }

  #emit(event: WorkflowEvent): void {
    if (this.#options.onEvent === undefined) return;
    try {
      this.#options.onEvent(event);
    } catch (error) {
      this.#logger.warn({ err: error }, 'onEvent threw; the event is dropped');
    }
  }

  #scope() {
    return { inputs: this.#options.inputs, steps: this.#results };
  }

  #cancel(): void {
    if (this.#controller.signal.aborted) return;
    this.#stopping = true;
    this.#controller.abort(new AutoglmError('The workflow run was cancelled.'));
  }

  /** `#active` counts scheduled work not yet finished; the run ends when it drops to zero. */
  #release(): void {
    if (--this.#active === 0) void this.#end();
  }

  #schedule(step: StepSpec): void {
    if (this.#stopping) return;
    this.#active++;
    const skippedNeed = step.needs.find((need) => {
      const result = this.#results[need];
      return result.status === 'skipped' || (result.status === 'failed' && this.#steps.get(need)!.onFailure === 'skip-dependents');
    });
    if (skippedNeed !== undefined) {
      void this.#endStep(step, { status: 'skipped', attempts: 0, reason: `need "${skippedNeed}" did not succeed` });
      return;
    }
    if (step.if !== undefined) {
      let run: boolean;
      try {
        run = typeof step.if === 'boolean' ? step.if : truthy(evaluateExpression(parseExpression(conditionExpression(step.if)), this.#scope()));
      } catch (error) {
        // A reference to a missing field: the step fails, naming it (the condition is not silently false).
        void this.#endStep(step, { status: 'failed', attempts: 0, error: toErrorValue(error) });
        return;
      }
      if (!run) {
        void this.#endStep(step, { status: 'skipped', attempts: 0, reason: 'condition is false' });
        return;
      }
    }
    void this.#runStep(step);
  }

  async #runStep(step: StepSpec): Promise<void> {
    const result = this.#results[step.id];
    const policy = step.retry;
    const maxAttempts = (policy?.max ?? 0) + 1;
    const recovered = this.#options.recovered?.get(step.id);
    let attempt = recovered?.nextAttempt ?? 1;
    // A suspended step continues its attempt from the journaled state with the decisions (first attempt only: a
    // retry after that starts the agent afresh).
    let resume = recovered?.suspension?.decisions === undefined ? undefined : { state: recovered.suspension.state, decisions: recovered.suspension.decisions };
    result.status = 'running';
    delete result.pendingApprovals;
    let error: StepErrorValue | undefined;
    for (;;) {
      if (this.#controller.signal.aborted) break;
      result.attempts = attempt;
      result.startedAt ??= Date.now();
      this.#journal({ type: 'step-start', stepId: step.id, attempt, at: Date.now() }, false);
      this.#emit({ type: 'step-start', runId: this.#options.runId, stepId: step.id, attempt, at: Date.now() });
      try {
        const attemptResume = resume;
        resume = undefined;
        const output = await this.#queue.add(() => this.#attempt(step, attempt, attemptResume));
        await this.#endStep(step, { ...result, status: 'succeeded', output, error: undefined });
        return;
      } catch (thrown) {
        if (StepSuspension.isInstance(thrown) && !this.#controller.signal.aborted) {
          await this.#suspendStep(step, attempt, thrown);
          return;
        }
        error = toErrorValue(thrown);
      }
      if (this.#controller.signal.aborted) break;
      if (attempt >= maxAttempts || permanentCodes.has(error.code)) {
        await this.#endStep(step, { ...result, status: 'failed', error });
        return;
      }
      const delayMs = retryDelay(policy!, attempt, this.#options.random);
      this.#journal({ type: 'step-retry', stepId: step.id, attempt, error, delayMs, at: Date.now() });
      this.#emit({ type: 'step-retry', runId: this.#options.runId, stepId: step.id, attempt, error, delayMs, at: Date.now() });
      this.#logger.warn({ stepId: step.id, attempt, error, delayMs }, 'step-retry');
      await sleep(delayMs, this.#controller.signal);
      attempt++;
    }
    // Cancelled: not journaled as ended, so a resumed run runs it again.
    Object.assign(result, { status: 'cancelled', endedAt: Date.now(), error: { code: 'ABORT', message: 'The run was cancelled while this step was running.' } });
    this.#emit({ type: 'step-end', runId: this.#options.runId, stepId: step.id, status: 'cancelled', attempts: result.attempts, error: result.error, at: Date.now() });
    this.#release();
  }

  /**
   * The step's agent waits for a person: journal the pending calls and the state (synced: the process may exit
   * next), and leave the step unended so its dependents wait. The run ends `suspended` once nothing else runs.
   */
  async #suspendStep(step: StepSpec, attempt: number, suspension: StepSuspension): Promise<void> {
    const result = this.#results[step.id];
    const at = Date.now();
    const pendingApprovals = suspension.pending.map((call) => ({ ...call, id: `${step.id}.${call.id}`, stepId: step.id, callId: call.id }));
    Object.assign(result, { status: 'suspended', pendingApprovals });
    try {
      await this.#options.journal?.append({ type: 'step-suspend', stepId: step.id, attempt, pending: suspension.pending, state: suspension.state, at });
    } catch (error) {
      this.#fatal ??= error;
      this.#stopping = true;
    }
    this.#logger.info({ stepId: step.id, pending: pendingApprovals.map((call) => call.id) }, 'step-suspend');
    this.#emit({ type: 'step-suspend', runId: this.#options.runId, stepId: step.id, attempt, pendingApprovals, at });
    this.#release();
  }

  /** One attempt, bounded by its timeout and the run's signal, so a tool that ignores the abort still ends the attempt on time. */
  async #attempt(step: StepSpec, attempt: number, resume?: StepContext['resume']): Promise<unknown> {
    const { runId } = this.#options;
    const stepLogger = this.#logger;
    let logger: Logger | undefined;
    return withDeadline(
      (signal) => {
        const ctx: StepContext = {
          runId,
          stepId: step.id,
          attempt,
          idempotencyKey: `${runId}:${step.id}:${attempt}`,
          signal,
          // A pino child per attempt is costly on 10 000-step runs; made only when a step logs.
          get logger() {
            return (logger ??= stepLogger.child({ stepId: step.id, attempt }));
          },
          model: this.#options.model,
          ...(resume === undefined ? {} : { resume }),
        };
        const journal = this.#options.journal;
        // KV snapshots are files beside a file journal, for bodies run in this process.
        if (journal?.kvSnapshotFile !== undefined && step.agent !== undefined && !this.#options.executor.remote) {
          const result = this.#results[step.id];
          ctx.kvSnapshot = { file: journal.kvSnapshotFile(step.id), report: (usage) => (result.kv = usage) };
        }
        return this.#invoke(step, ctx);
      },
      {
        timeoutMs: step.timeoutMs,
        signal: this.#controller.signal,
        onTimeout: () => new AttemptError({ code: 'STEP_TIMEOUT', message: `Step "${step.id}" timed out after ${step.timeoutMs} ms (timeoutMs) on attempt ${attempt}.` }),
        onAbort: () => new AttemptError({ code: 'ABORT', message: 'cancelled' }),
      },
    );
  }

  async #invoke(step: StepSpec, ctx: StepContext): Promise<unknown> {
    const scope = this.#scope();
    const args = step.with === undefined ? {} : (resolveTemplates(step.with, scope) as Record<string, unknown>);
    if (step.uses !== undefined || step.agent !== undefined) {
      const task: StepTask = {
        runId: ctx.runId,
        stepId: ctx.stepId,
        attempt: ctx.attempt,
        idempotencyKey: ctx.idempotencyKey,
        args,
        modelBound: step.usesModel === true || (step.usesModel !== false && step.agent !== undefined),
        ...(step.uses === undefined ? { agent: resolveTemplates(step.agent, scope) as StepSpec['agent'] & object } : { uses: step.uses }),
        ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      };
      const { tools, agents, model, modelQueueKey, executor } = this.#options;
      return executor.execute(task, ctx, { tools, agents, model, modelQueueKey });
    }
    const nested = step.workflow!;
    const run = await new WorkflowRunner(nested, {
      ...this.#options,
      runId: ctx.idempotencyKey,
      inputs: resolveInputs(nested, args),
      concurrency: nested.concurrency ?? this.#options.concurrency,
      logger: ctx.logger,
      signal: ctx.signal,
      journal: undefined,
      recovered: undefined,
      resumed: false,
      onEvent: undefined,
    }).execute();
    if (run.status === 'succeeded') return run.outputs;
    if (run.status === 'suspended') {
      // A nested run has no journal of its own to suspend in.
      throw new AttemptError({
        code: 'STEP_FAILED',
        message: `Nested workflow "${nested.name}" has an agent step that asks for tool approval (${run.pendingApprovals?.map((call) => call.id).join(', ')}); approval works in top-level agent steps only: move the step up, or turn the tool's approval off for this run.`,
      });
    }
    const failed = Object.entries(run.steps).find(([, result]) => result.status === 'failed');
    throw new AttemptError({
      code: run.status === 'cancelled' ? 'ABORT' : 'STEP_FAILED',
      message: `Nested workflow "${nested.name}" ${run.status}${failed ? ` at step "${failed[0]}": ${failed[1].error?.message}` : ''}`,
    });
  }

  /** Appends without waiting: ordering is kept by the journal, and `#endStep` waits for everything before it. */
  #journal(record: JournalRecord, sync = true): void {
    this.#options.journal?.append(record, { sync }).catch((error) => {
      this.#fatal ??= error;
      this.#stopping = true;
    });
  }

  async #endStep(step: StepSpec, ended: StepResult): Promise<void> {
    const result = this.#results[step.id];
    Object.assign(result, ended, { endedAt: Date.now() });
    try {
      await this.#options.journal?.append({
        type: 'step-end',
        stepId: step.id,
        status: result.status as 'succeeded' | 'failed' | 'skipped',
        attempts: result.attempts,
        output: result.output,
        error: result.error,
        startedAt: result.startedAt,
        endedAt: result.endedAt!,
        ...(result.kv === undefined ? {} : { kv: result.kv }),
      });
    } catch (error) {
      this.#fatal ??= error;
      this.#stopping = true;
    }
    this.#logger.info({ stepId: step.id, status: result.status, attempts: result.attempts, error: result.error }, 'step-end');
    this.#emit({
      type: 'step-end',
      runId: this.#options.runId,
      stepId: step.id,
      status: result.status,
      attempts: result.attempts,
      output: result.output,
      error: result.error,
      ...(result.kv === undefined ? {} : { kv: result.kv }),
      at: Date.now(),
    });
    if (result.status === 'failed' && step.onFailure === 'fail') this.#stopping = true;
    for (const dependent of this.#dependents.get(step.id) ?? []) {
      const waiting = this.#waitingOn.get(dependent.id)! - 1;
      this.#waitingOn.set(dependent.id, waiting);
      if (waiting === 0) this.#schedule(dependent);
    }
    this.#release();
  }

  async #end(): Promise<void> {
    try {
      const cancelled = this.#controller.signal.aborted;
      const failed = this.#spec.steps.some((step) => this.#results[step.id].status === 'failed' && step.onFailure === 'fail');
      const suspended = this.#spec.steps.filter((step) => this.#results[step.id].status === 'suspended');
      const status: RunStatus = cancelled ? 'cancelled' : failed || this.#fatal !== undefined ? 'failed' : suspended.length > 0 ? 'suspended' : 'succeeded';
      for (const result of Object.values(this.#results)) {
        // A suspended run's waiting steps stay pending: they run on resume.
        if (result.status === 'pending' && status !== 'suspended') {
          Object.assign(result, cancelled ? { status: 'cancelled' } : { status: 'skipped', reason: 'the run stopped before this step' });
        }
      }
      let outputs: Record<string, unknown> = {};
      try {
        if (status !== 'suspended') outputs = this.#outputs();
      } catch (error) {
        this.#fatal ??= error;
      }
      const endedAt = Date.now();
      if (this.#options.journal !== undefined && this.#fatal === undefined) {
        await this.#options.journal.append({ type: 'run-end', status, outputs, at: endedAt });
      }
      await this.#options.journal?.close();
      if (this.#fatal !== undefined) throw this.#fatal;
      this.#logger.info({ status }, 'run-end');
      this.#emit({ type: 'run-end', runId: this.#options.runId, status, at: endedAt });
      const pendingApprovals = suspended.flatMap((step) => this.#results[step.id].pendingApprovals ?? []);
      this.#finish({
        runId: this.#options.runId,
        workflow: this.#spec.name,
        status,
        steps: this.#results,
        outputs,
        startedAt: this.#startedAt,
        endedAt,
        ...(status === 'suspended' ? { pendingApprovals } : {}),
      });
    } catch (error) {
      this.#fail(error);
    }
  }

  #outputs(): Record<string, unknown> {
    if (this.#spec.outputs !== undefined) return resolveTemplates(this.#spec.outputs, this.#scope()) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    for (const [id, result] of Object.entries(this.#results)) if (result.status === 'succeeded') outputs[id] = result.output;
    return outputs;
  }
}
