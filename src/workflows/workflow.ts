/**
 * A validated workflow: load it from YAML, a file or a TS object, then `run` it (or `Workflow.resume` a
 * checkpointed run after a crash).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CheckpointError, ToolApprovalError, WorkflowSpecError } from '../errors';
import { checkDecisions } from '../agent/tool-approval';
import { assertKnownNames } from '../strict-options';
import { instrumentToolCaller } from '../observability/instrument-tool-caller';
import { instrumentWorkflowEvents } from '../observability/instrument-workflow';
import { silentLogger } from '../observability/logger';
import { FileSandbox } from '../tools/file-sandbox';
import type { ToolCaller } from '../tools/tool';
import { ToolRegistry } from '../tools/tool-registry';
import { recoverRun } from './recover-run';
import { resolveInputs } from './resolve-inputs';
import { readJournal, RunJournal, specHash, journalFormat, type RunHeader } from './run-journal';
import { checkTools, specError, validateWorkflowSpec, type SpecIssue, type SpecOrigin } from './validate-workflow-spec';
import { createWorkflowAgentRunner } from './workflow-agent-runner';
import { WorkflowRunner } from './workflow-runner';
import type { WorkflowSpec, WorkflowSpecInput } from './workflow-spec';
import type { AgentRunner, StepResult, WorkflowApprovalDecision, WorkflowRunOptions, WorkflowRunResult } from './workflow-types';
import { YamlSource } from './yaml-source';
import { LocalExecutor } from './executors/local-executor';
import type { RunJournalWriter } from './executors/run-journal-store';

export interface WorkflowLoadOptions {
  /** When given, unknown `uses:` tools are reported at load time rather than at run time. */
  tools?: ToolCaller;
  /** Directory that nested `workflow: file.yaml` paths are relative to. Defaults to the file's directory or the cwd. */
  baseDir?: string;
  /** The file name used in error messages. */
  file?: string;
}

export interface WorkflowResumeOptions extends Omit<WorkflowRunOptions, 'runId' | 'checkpointDir' | 'inputs'> {
  /**
   * The directory the run's journal was written to. Required unless the run was journaled by its `executor`
   * (the BullMQ executor keeps journals in Redis).
   */
  checkpointDir?: string;
  /**
   * The spec the run must have been started with (a Workflow, a TS spec or YAML text); a different one is refused
   * with CheckpointError. Defaults to the copy in the journal.
   */
  spec?: Workflow | WorkflowSpecInput | string;
  /**
   * For a `suspended` run: one decision per pending call (`{ id, approved, reason?, by? }`, ids as in the run's
   * `pendingApprovals`). Journaled before the steps continue. Unknown ids, a missing or a second decision, or
   * decisions for a run that waits for none: ToolApprovalError. Defaults to none.
   */
  decisions?: WorkflowApprovalDecision[];
}

const defaultConcurrency = 4;

/** Every name WorkflowRunOptions has; the `satisfies` keeps this list in step with the interface. */
const runOptionNames = Object.keys({
  tools: true,
  inputs: true,
  concurrency: true,
  checkpointDir: true,
  runId: true,
  signal: true,
  logger: true,
  model: true,
  agents: true,
  onEvent: true,
  metrics: true,
  random: true,
  modelVersion: true,
  executor: true,
} satisfies Record<keyof WorkflowRunOptions, true>);
const resumeOptionNames = [...runOptionNames.filter((name) => name !== 'runId' && name !== 'inputs'), 'spec', 'decisions'];

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class Workflow {
  readonly spec: WorkflowSpec;
  /** SHA-256 of the spec; checkpoints record it and `resume` refuses a journal with another one. */
  readonly hash: string;
  readonly #origin: SpecOrigin;

  private constructor(spec: WorkflowSpec, origin: SpecOrigin) {
    this.spec = spec;
    this.hash = specHash(spec);
    this.#origin = origin;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Parses and validates a YAML workflow; errors name the step, the field and the line. */
  static fromYaml(text: string, options: WorkflowLoadOptions = {}): Workflow {
    const source = new YamlSource(text, options.file);
    const origin: SpecOrigin = { source, file: options.file, baseDir: options.baseDir ?? (options.file ? dirname(resolve(options.file)) : undefined) };
    return new Workflow(validateWorkflowSpec(source.toJS(), origin, options.tools), origin);
  }

  /** Validates a workflow given as a TS object. */
  static define(spec: WorkflowSpecInput, options: WorkflowLoadOptions = {}): Workflow {
    const origin: SpecOrigin = { baseDir: options.baseDir, file: options.file };
    return new Workflow(validateWorkflowSpec(spec, origin, options.tools), origin);
  }

  /** Reads and validates a YAML workflow file. */
  static async load(path: string, options: Omit<WorkflowLoadOptions, 'file'> = {}): Promise<Workflow> {
    const text = await readFile(path, 'utf8').catch((cause: Error) => {
      throw new WorkflowSpecError(`Cannot read workflow file ${path}: ${cause.message}`, { cause, details: { file: path } });
    });
    return Workflow.fromYaml(text, { ...options, file: path, baseDir: options.baseDir ?? dirname(resolve(path)) });
  }

  /** Runs the workflow. Step failures are in the result; misuse (bad inputs, unknown tools) throws. */
  async run(options: WorkflowRunOptions = {}): Promise<WorkflowRunResult> {
    assertKnownNames(options, runOptionNames, { where: `Workflow "${this.spec.name}" run options`, error: WorkflowSpecError });
    this.#checkRunnable(options);
    const inputs = resolveInputs(this.spec, options.inputs);
    const runId = options.runId ?? newRunId();
    await options.executor?.prepare?.();
    const store = options.checkpointDir === undefined ? options.executor?.journalStore : undefined;
    const create = options.checkpointDir === undefined ? store && ((header: RunHeader) => store.create(header)) : (header: RunHeader) => RunJournal.create(options.checkpointDir!, header);
    const journal =
      create === undefined
        ? undefined
        : await create({
            type: 'run-header',
            format: journalFormat,
            runId,
            workflow: this.spec.name,
            specVersion: this.spec.version,
            specHash: this.hash,
            spec: this.spec,
            inputs,
            at: Date.now(),
            ...(options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }),
          });
    return this.#runner(runId, inputs, options, journal).execute();
  }

  /**
   * Continues a checkpointed run: steps whose end is in the journal are not run again, a step that was running at
   * the crash runs again with the same attempt number (at-least-once). A run that already succeeded or failed
   * returns its journaled result; a cancelled run continues.
   */
  static async resume(runId: string, options: WorkflowResumeOptions): Promise<WorkflowRunResult> {
    assertKnownNames(options, resumeOptionNames, { where: 'Workflow.resume options', error: WorkflowSpecError });
    const store = options.checkpointDir === undefined ? options.executor?.journalStore : undefined;
    if (options.checkpointDir === undefined && store === undefined) {
      throw new WorkflowSpecError(`Workflow.resume("${runId}") needs \`checkpointDir\`, the folder the run was journaled to (or the \`executor\` whose store journaled it).`, {
        details: { field: 'checkpointDir', runId },
      });
    }
    await options.executor?.prepare?.();
    const contents = store === undefined ? readJournal(options.checkpointDir!, runId) : await store.read(runId);
    const { header } = contents;
    let workflow: Workflow;
    if (options.spec !== undefined) {
      workflow =
        options.spec instanceof Workflow
          ? options.spec
          : typeof options.spec === 'string'
            ? Workflow.fromYaml(options.spec)
            : Workflow.define(options.spec);
      if (workflow.hash !== header.specHash) {
        throw new CheckpointError(
          `Run "${runId}" was started with another version of workflow "${header.workflow}" (journal spec ${header.specHash.slice(0, 12)}` +
            `${header.specVersion === undefined ? '' : `, version ${header.specVersion}`}; given spec ${workflow.hash.slice(0, 12)}` +
            `${workflow.spec.version === undefined ? '' : `, version ${workflow.spec.version}`}). Resume it with the spec it started with, or start a new run.`,
          { details: { runId, journalHash: header.specHash, specHash: workflow.hash } },
        );
      }
    } else {
      workflow = new Workflow(validateWorkflowSpec(header.spec), {});
      if (workflow.hash !== header.specHash) {
        throw new CheckpointError(`The spec stored in run "${runId}"'s journal does not match its recorded hash; the journal was edited or written by an incompatible version.`, {
          details: { runId },
        });
      }
    }
    const recovered = recoverRun(contents.records);
    const waiting = new Map<string, { stepId: string; callId: string }>();
    for (const [stepId, step] of recovered.steps) {
      if (step.suspension === undefined || step.suspension.decisions !== undefined) continue;
      for (const call of step.result.pendingApprovals ?? []) waiting.set(call.id, { stepId, callId: call.callId });
    }
    const finished = recovered.end !== undefined && recovered.end.status !== 'cancelled' && recovered.end.status !== 'suspended';
    if (options.decisions !== undefined && (waiting.size === 0 || finished)) {
      throw new ToolApprovalError(
        `Workflow.resume("${runId}"): the run is ${recovered.end?.status ?? 'not finished'} and waits for no approval; resume it without decisions.`,
        { details: { kind: 'not-suspended', runId, status: recovered.end?.status ?? 'running' } },
      );
    }
    if (finished && recovered.end !== undefined) {
      const steps: Record<string, StepResult> = {};
      for (const step of workflow.spec.steps) {
        steps[step.id] = recovered.steps.get(step.id)?.result ?? { status: 'skipped', attempts: 0, reason: 'the run stopped before this step' };
        if (steps[step.id].status === 'pending') steps[step.id] = { ...steps[step.id], status: 'skipped' };
      }
      return { runId, workflow: header.workflow, status: recovered.end.status, steps, outputs: recovered.end.outputs, startedAt: recovered.startedAt, endedAt: recovered.end.at };
    }
    const decided = waiting.size === 0 ? new Map() : checkDecisions(options.decisions ?? [], [...waiting.keys()], `Workflow.resume("${runId}")`);
    workflow.#checkRunnable(options);
    const journal = store === undefined ? await RunJournal.reopen(options.checkpointDir!, runId, contents as ReturnType<typeof readJournal>) : await store.reopen(runId);
    await journal.append({ type: 'run-resume', at: Date.now(), ...(options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }) });
    // The decisions are journaled (the audit) before the steps continue; a crash after this continues with them.
    const byStep = new Map<string, WorkflowApprovalDecision[]>();
    for (const [id, decision] of decided) {
      const { stepId, callId } = waiting.get(id)!;
      byStep.set(stepId, [...(byStep.get(stepId) ?? []), { ...decision, id: callId }]);
    }
    for (const [stepId, decisions] of byStep) {
      await journal.append({ type: 'step-decisions', stepId, decisions, at: Date.now() });
      recovered.steps.get(stepId)!.suspension!.decisions = decisions;
    }
    return workflow.#runner(runId, header.inputs, options, journal, recovered.steps, header.modelVersion).execute();
  }

  #runner(
    runId: string,
    inputs: Record<string, unknown>,
    options: WorkflowRunOptions,
    journal: RunJournalWriter | undefined,
    recovered?: ReturnType<typeof recoverRun>['steps'],
    startedOnModelVersion?: string,
  ): WorkflowRunner {
    const concurrency = options.concurrency ?? this.spec.concurrency ?? defaultConcurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new WorkflowSpecError(`Expected \`concurrency\` to be an integer >= 1, got ${concurrency}.`, { details: { field: 'concurrency' } });
    }
    const agents = options.agents ?? this.#defaultAgents(options);
    // With `metrics`, the run's events, tool calls and agent steps are recorded (and traced) from the outside.
    const observed = options.metrics === undefined ? undefined : instrumentWorkflowEvents({ metrics: options.metrics, next: options.onEvent });
    return new WorkflowRunner(this.spec, {
      runId,
      inputs,
      concurrency,
      tools: observed && options.tools ? instrumentToolCaller(options.tools, { metrics: options.metrics, workflow: observed }) : options.tools,
      agents: observed && agents ? observed.agents(agents) : agents,
      model: options.model,
      modelQueueKey: {},
      logger: options.logger ?? silentLogger(),
      signal: options.signal,
      journal,
      executor: options.executor ?? new LocalExecutor(),
      onEvent: observed ?? options.onEvent,
      random: options.random ?? Math.random,
      recovered,
      resumed: recovered !== undefined,
      modelVersion: options.modelVersion,
      startedOnModelVersion,
    });
  }

  /**
   * Without an `agents` runner, agent steps run an AutoAgent on `model`, with the file access of `tools` (a
   * ToolRegistry) or a read-only sandbox over the workflow's folder, and may list the registry's tools.
   */
  #defaultAgents(options: WorkflowRunOptions): AgentRunner | undefined {
    if (options.model === undefined) return undefined;
    const registry = options.tools instanceof ToolRegistry ? options.tools : undefined;
    return createWorkflowAgentRunner({
      model: options.model,
      files: registry?.files ?? new FileSandbox({ roots: [this.#origin.baseDir ?? process.cwd()] }),
      ...(registry === undefined ? {} : { tools: registry }),
    });
  }

  /** Tools and agent runner must be there for the steps that need them, nested workflows included. */
  #checkRunnable(options: Pick<WorkflowRunOptions, 'tools' | 'agents' | 'model' | 'executor'>): void {
    // Remote workers bring their own tools and models; the coordinator checks tools only when it was given some.
    if (options.executor?.remote === true) {
      if (options.tools !== undefined) checkTools(this.spec, options.tools, this.#origin);
      return;
    }
    const issues: SpecIssue[] = [];
    const visit = (spec: WorkflowSpec, label: string, path: Array<string | number>) => {
      spec.steps.forEach((step, index) => {
        const line = (field: string) => this.#origin.source?.lineOf([...path, 'steps', index, field]);
        if (step.uses !== undefined && options.tools === undefined) {
          issues.push({ step: label + step.id, field: 'uses', line: line('uses'), message: `uses tool "${step.uses}" but run() got no \`tools\`; pass your ToolRegistry` });
        }
        if (step.agent !== undefined && options.agents === undefined && options.model === undefined) {
          issues.push({
            step: label + step.id,
            field: 'agent',
            line: line('agent'),
            message: 'is an agent step but run() got neither a `model` (agent steps then run an AutoAgent on it) nor an `agents` runner; pass `model`',
          });
        }
        if (step.workflow !== undefined) visit(step.workflow, `${label}${step.id} > `, [...path, 'steps', index, 'workflow']);
      });
    };
    visit(this.spec, '', []);
    if (issues.length > 0) throw specError(this.spec.name, this.#origin.file, issues);
    if (options.tools !== undefined) checkTools(this.spec, options.tools, this.#origin);
  }
}
