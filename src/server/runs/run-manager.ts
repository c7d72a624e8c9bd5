/**
 * Runs of the runs API: started in the background, journaled in `<dataDir>/runs`, observable as events, and
 * resumed by the next server when it finds a journal without an end (a crash or SIGKILL) or one that ended
 * `cancelled` by a shutdown rather than by the user.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentEvent } from '../../agent/agent-events';
import { ServerRequestError } from '../../errors';
import type { Logger } from '../../observability/logger';
import type { AutoglmMetrics } from '../../observability/metrics';
import { ToolRegistry } from '../../tools/tool-registry';
import { readJournal } from '../../workflows/run-journal';
import { recoverRun } from '../../workflows/recover-run';
import { resolveInputs } from '../../workflows/resolve-inputs';
import { Workflow } from '../../workflows/workflow';
import type { StepResult, WorkflowEvent, WorkflowRunResult } from '../../workflows/workflow-types';
import type { ModelProvider } from '../model-provider';
import type { ServerMetrics } from '../server-metrics';
import { agentWorkflow, type RunRequest } from './run-request';
import type { RunsOptions } from './runs-options';

/** `suspended`: an agent step waits for a person's approval (the runs API cannot give decisions yet; `autoglm run --resume` can). */
export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'suspended';

/** What the server records beside a run's journal (`<id>.run.json`). */
interface RunMeta {
  id: string;
  kind: 'workflow' | 'agent';
  workflow: string;
  model: { name: string; version: string } | null;
  createdAt: number;
  /** The user cancelled it: a restart leaves it cancelled. A shutdown's cancel is not recorded here. */
  cancelRequested?: boolean;
}

export type RunEvent = WorkflowEvent | { type: 'agent-event'; runId: string; stepId: string; event: AgentEvent };

interface Run {
  meta: RunMeta;
  status: RunState;
  steps: Record<string, StepResult>;
  outputs: Record<string, unknown>;
  endedAt?: number;
  error?: { code: string; message: string };
  events: RunEvent[];
  listeners: Set<(event: RunEvent | undefined) => void>;
  controller?: AbortController;
  /** The model version this process runs it on (differs from `meta.model.version` when resumed after an update). */
  modelVersion?: string;
}

const runIdPattern = /^run-[a-z0-9]+-[0-9a-f]{8}$/;

export class RunManager {
  readonly #options: RunsOptions;
  readonly #dir: string;
  readonly #models: ModelProvider;
  readonly #metrics: AutoglmMetrics;
  readonly #serverMetrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #tools: ToolRegistry;
  readonly #runs = new Map<string, Run>();
  readonly #active = new Set<Promise<unknown>>();
  /** Listeners of every run's events (the status page). */
  readonly #watchers = new Set<(runId: string) => void>();
  #closing = false;

  constructor(parts: { options: RunsOptions; models: ModelProvider; metrics: AutoglmMetrics; serverMetrics: ServerMetrics; logger: Logger }) {
    this.#options = parts.options;
    this.#dir = path.resolve(parts.options.dataDir, 'runs');
    this.#models = parts.models;
    this.#metrics = parts.metrics;
    this.#serverMetrics = parts.serverMetrics;
    this.#logger = parts.logger;
    this.#tools = parts.options.tools ?? new ToolRegistry([]);
  }

  /** Loads the journals of earlier servers and resumes the runs they left unfinished. */
  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    for (const file of readdirSync(this.#dir).filter((name) => name.endsWith('.run.json'))) {
      const meta = JSON.parse(await readFile(path.join(this.#dir, file), 'utf8')) as RunMeta;
      if (!existsSync(path.join(this.#dir, `${meta.id}.jsonl`))) continue;
      const recovered = recoverRun(readJournal(this.#dir, meta.id).records);
      const run = this.#add(meta);
      run.steps = Object.fromEntries([...recovered.steps].map(([id, step]) => [id, step.result]));
      if (recovered.end !== undefined && (recovered.end.status !== 'cancelled' || meta.cancelRequested === true)) {
        run.status = recovered.end.status;
        run.outputs = recovered.end.outputs;
        run.endedAt = recovered.end.at;
        continue;
      }
      this.#logger.info({ runId: meta.id }, 'resuming an interrupted run');
      this.#execute(run, (common) => Workflow.resume(meta.id, { ...common, checkpointDir: this.#dir }));
    }
    this.#countStatuses();
  }

  /** Starts a run; misuse (unknown workflow, bad inputs) throws a 400/404 before anything is journaled. */
  async create(request: RunRequest): Promise<{ id: string }> {
    if (this.#closing) throw new ServerRequestError('The server is shutting down; start the run after the restart.', { details: { status: 503, param: null } });
    const inputs = request.inputs ?? {};
    let workflow: Workflow;
    if (request.workflow !== undefined) {
      const found = (this.#options.workflows ?? []).find((candidate) => candidate.name === request.workflow);
      if (found === undefined) {
        throw new ServerRequestError(`No workflow "${request.workflow}" is served. Served: ${(this.#options.workflows ?? []).map((w) => w.name).join(', ') || '(none; start with --workflows DIR)'}.`, {
          details: { status: 404, param: 'workflow', type: 'not_found_error' },
        });
      }
      workflow = found;
      const unknown = Object.keys(inputs).filter((name) => workflow.spec.inputs[name] === undefined);
      if (unknown.length > 0) {
        throw new ServerRequestError(`Workflow "${workflow.name}" has no input ${unknown.map((name) => `"${name}"`).join(', ')}; it declares ${Object.keys(workflow.spec.inputs).join(', ') || 'none'}.`, {
          details: { status: 400, param: `inputs.${unknown[0]}`, type: 'invalid_request_error' },
        });
      }
    } else {
      if (this.#options.agents === undefined) {
        throw new ServerRequestError('This server runs no agents (createServer({ runs: { agents } }) is not set).', { details: { status: 400, param: 'agent' } });
      }
      workflow = agentWorkflow(request.agent!, inputs);
    }
    const resolvedInputs = resolveInputs(workflow.spec, inputs);
    const modelName = request.model ?? this.#options.model ?? this.#models.list()[0]?.name;
    const provided = modelName === undefined ? undefined : this.#models.get(modelName);
    if (request.model !== undefined && provided === undefined) {
      throw new ServerRequestError(`The model "${request.model}" does not exist here.`, { details: { status: 404, param: 'model', openAiCode: 'model_not_found' } });
    }
    const id = `run-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const meta: RunMeta = {
      id,
      kind: request.workflow === undefined ? 'agent' : 'workflow',
      workflow: workflow.name,
      model: provided === undefined ? null : { name: modelName!, version: provided.version },
      createdAt: Date.now(),
    };
    await this.#writeMeta(meta);
    const run = this.#add(meta);
    this.#execute(run, (common) => workflow.run({ ...common, inputs: resolvedInputs, checkpointDir: this.#dir, runId: id }));
    this.#countStatuses();
    return { id };
  }

  get(id: string): Run {
    const run = runIdPattern.test(id) ? this.#runs.get(id) : undefined;
    if (run === undefined) throw new ServerRequestError(`No run "${id}".`, { details: { status: 404, param: 'id', type: 'not_found_error' } });
    return run;
  }

  /** The run as `GET /v1/runs/:id` shows it. */
  describe(id: string): Record<string, unknown> {
    const run = this.get(id);
    return {
      id,
      object: 'run',
      kind: run.meta.kind,
      workflow: run.meta.workflow,
      status: run.status,
      model: run.meta.model,
      steps: run.steps,
      outputs: run.outputs,
      createdAt: run.meta.createdAt,
      ...(run.endedAt === undefined ? {} : { endedAt: run.endedAt }),
      ...(run.error === undefined ? {} : { error: run.error }),
      ...(run.modelVersion === undefined || run.modelVersion === run.meta.model?.version ? {} : { resumedOnModelVersion: run.modelVersion }),
    };
  }

  /** The most recent runs, newest first, as `describe` shows them (the status page's list). */
  list(limit = 20): Record<string, unknown>[] {
    return [...this.#runs.keys()].reverse().slice(0, limit).map((id) => this.describe(id));
  }

  /** Calls `listener` with a run's id after each of its events and when it ends; returns the unsubscribe function. */
  watch(listener: (runId: string) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  async cancel(id: string): Promise<Record<string, unknown>> {
    const run = this.get(id);
    if (run.status !== 'running') {
      throw new ServerRequestError(`Run "${id}" already ended (${run.status}).`, { details: { status: 409, param: 'id', type: 'conflict_error' } });
    }
    run.meta.cancelRequested = true;
    await this.#writeMeta(run.meta);
    run.controller?.abort();
    return { id, status: 'cancelling' };
  }

  /** Calls `listener` with every event so far and then the live ones; `undefined` when the run has ended. */
  subscribe(id: string, listener: (event: RunEvent | undefined) => void): () => void {
    const run = this.get(id);
    for (const event of run.events) listener(event);
    if (run.status !== 'running') {
      listener(undefined);
      return () => undefined;
    }
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  /** Shutdown: running runs are cancelled (journaled as such) and resumed by the next server. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const run of this.#runs.values()) run.controller?.abort();
    await Promise.allSettled([...this.#active]);
  }

  #add(meta: RunMeta): Run {
    const run: Run = { meta, status: 'running', steps: {}, outputs: {}, events: [], listeners: new Set() };
    this.#runs.set(meta.id, run);
    return run;
  }

  #emit(run: Run, event: RunEvent): void {
    run.events.push(event);
    for (const listener of run.listeners) listener(event);
    for (const watcher of this.#watchers) watcher(run.meta.id);
  }

  #execute(run: Run, start: (common: Parameters<Workflow['run']>[0] & object) => Promise<WorkflowRunResult>): void {
    const controller = new AbortController();
    run.controller = controller;
    const provided = run.meta.model === null ? undefined : this.#models.get(run.meta.model.name);
    const model = provided?.model;
    run.modelVersion = provided?.version;
    const agents = model === undefined ? undefined : this.#options.agents?.(model, (stepId, event) => this.#emit(run, { type: 'agent-event', runId: run.meta.id, stepId, event }));
    const onEvent = (event: WorkflowEvent) => {
      if (event.type === 'step-start') run.steps[event.stepId] = { status: 'running', attempts: event.attempt, startedAt: event.at };
      if (event.type === 'step-end') {
        run.steps[event.stepId] = {
          status: event.status,
          attempts: event.attempts,
          ...(event.output === undefined ? {} : { output: event.output }),
          ...(event.error === undefined ? {} : { error: event.error }),
          startedAt: run.steps[event.stepId]?.startedAt,
          endedAt: event.at,
        };
      }
      this.#emit(run, event);
    };
    const modelVersion = provided === undefined ? {} : { modelVersion: provided.version };
    const promise = start({ tools: this.#tools, model, ...modelVersion, agents, onEvent, signal: controller.signal, metrics: this.#metrics, logger: this.#logger })
      .then((result) => {
        run.status = result.status;
        run.steps = result.steps;
        run.outputs = result.outputs;
        run.endedAt = result.endedAt;
      })
      .catch((error: unknown) => {
        run.status = 'failed';
        run.endedAt = Date.now();
        run.error = { code: (error as { code?: string }).code ?? 'RUN_ERROR', message: error instanceof Error ? error.message : String(error) };
        this.#logger.error({ runId: run.meta.id, err: error }, 'run failed to execute');
      })
      .finally(() => {
        // A shutdown's cancel leaves the run resumable: the next server continues it.
        if (this.#closing && run.status === 'cancelled' && run.meta.cancelRequested !== true) run.status = 'running';
        this.#active.delete(promise);
        for (const listener of run.listeners) listener(undefined);
        run.listeners.clear();
        this.#countStatuses();
        for (const watcher of this.#watchers) watcher(run.meta.id);
      });
    this.#active.add(promise);
  }

  async #writeMeta(meta: RunMeta): Promise<void> {
    await writeFile(path.join(this.#dir, `${meta.id}.run.json`), `${JSON.stringify(meta)}\n`);
  }

  #countStatuses(): void {
    const counts: Record<RunState, number> = { running: 0, succeeded: 0, failed: 0, cancelled: 0, suspended: 0 };
    for (const run of this.#runs.values()) counts[run.status] += 1;
    for (const [status, count] of Object.entries(counts)) this.#serverMetrics.runs.set({ status }, count);
  }
}
