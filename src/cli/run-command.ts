/**
 * `autoglm run <workflow.yaml>`: runs (or resumes) a workflow with the built-in tools, the plugins of its
 * autoglm.config.json, and an AutoAgent runner for its agent steps.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors';
import { assertKnownNames } from '../strict-options';
import type { LanguageModel } from '../models/language-model';
import { instrumentModel } from '../observability/instrument-model';
import { AutoglmMetrics } from '../observability/metrics';
import { documentTools } from '../tools/documents/document-tools';
import { financeTools } from '../tools/finance/key-figures-tool';
import { fileTools } from '../tools/file-tools';
import { pdfTools } from '../tools/pdf';
import { ToolRegistry } from '../tools/tool-registry';
import { Workflow } from '../workflows/workflow';
import type { WorkflowSpec } from '../workflows/workflow-spec';
import type { WorkflowApprovalDecision, WorkflowEvent, WorkflowRunResult } from '../workflows/workflow-types';
import { loadCliConfig } from './cli-config';
import { exitCodes, type CliContext } from './cli-context';
import { openModel } from './open-model';
import { integerOption, parseCommandLine, sequencesOption } from './parse-command-line';
import { BullmqExecutor } from '../workflows/executors/bullmq-executor';
import { ProgressLine } from './progress-line';
import { createWorkflowAgentRunner } from '../workflows/workflow-agent-runner';

export const runHelp = `Usage: autoglm run <workflow.yaml> [options]

Runs a workflow file: tool steps on the built-in tools (pdf.*, finance.*, document.*, files.*) and the plugins
listed in an autoglm.config.json beside the workflow; agent steps on an AutoAgent. Relative paths given to tools
resolve against the workflow's folder. Never uses the network.

Options:
  --input k=v          A workflow input (repeatable); JSON for non-string inputs (--input maxSteps=2)
  --model DIR          A GLM model directory. Default: the tiny random-weight model, built once into
                       $AUTOGLM_CACHE_DIR (default .cache/autoglm) with no download
  --checkpoint-dir DIR Journal the run there, so that --resume can continue it after a crash
  --resume RUN_ID      Continue a checkpointed run (needs --checkpoint-dir)
  --approve CALL       With --resume: approve a pending tool call of a suspended run (repeatable; CALL is an id
                       from its pendingApprovals, such as mail.call-1-1)
  --deny CALL[=REASON] With --resume: deny a pending call; the agent's model sees REASON (repeatable)
  --decided-by NAME    With --approve/--deny: who decided, journaled with the decisions
  --run-id ID          Name a new run (default: generated)
  --out DIR            The folder tool steps may write in (default: out/ in the workflow's folder, created).
                       Tools read inside the workflow's folder and the roots; they write only here and in --root
  --root DIR           Another folder tools may read and write (repeatable). The workflow's folder is readable;
                       the working directory is not a root. Roots that autoglm.config.json lists outside the
                       workflow's folder must also be given here
  --plugin SPEC        Load a tool plugin (package name or file path; repeatable)
  --config FILE        The CLI config (default: autoglm.config.json beside the workflow)
  --metrics-file FILE  Write the run's metrics there in Prometheus text format when it ends (tokens, tokens/s,
                       time to first token, tool calls and failures by tool, step latency, queue depth)
  --redis URL          Run the steps on \`autoglm worker\`s sharing this Redis (redis://[user:password@]host:port,
                       rediss:// for TLS); the run is journaled there, so --resume needs no --checkpoint-dir.
                       --model then names the workers' model (default: default). See docs/scale-out.md
  --concurrency N      Steps in flight at once (default: the workflow's concurrency, else 4)
  --sequences N        Generations the model runs at once, batched; model-bound steps run that many at once
                       (default: up to 8 by memory for quantized models, 1 for float weights)
  --json               Print the run result as JSON on stdout (no progress display)
  -h, --help           Show this help

Agent steps may list the built-in tools, files.write and plugin tools in agent.tools. A call to a tool that needs
approval (files.write does) suspends the run: it is journaled, the pending calls are printed (in --json, the
result's status is "suspended" and pendingApprovals lists { id, stepId, callId, name, args }), and the process exits
with code 3. Continue it, in this process or after a restart, with --resume RUN_ID and one --approve or --deny per
pending call.

Exit codes: 0 the run succeeded, 1 it failed or was cancelled, 2 usage, workflow spec or approval decision error,
3 the run is suspended waiting for approval.`;

function isInside(candidate: string, folder: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Steps that need the model: agent steps and `usesModel` tool steps, nested workflows included. */
function needsModel(spec: WorkflowSpec): boolean {
  return spec.steps.some((step) => step.agent !== undefined || step.usesModel === true || (step.workflow !== undefined && needsModel(step.workflow)));
}

function parseInputs(values: string[], spec: WorkflowSpec): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UsageError(`run: --input expects key=value, got "${value}".`);
    const key = value.slice(0, equals);
    const text = value.slice(equals + 1);
    assertKnownNames({ [key]: true }, Object.keys(spec.inputs), {
      where: `run: --input ${key}`,
      kind: 'input',
      error: UsageError,
      hint: `Workflow "${spec.name}" declares these under \`inputs:\`.`,
    });
    const declared = spec.inputs[key]!;
    if (declared.type === 'string') {
      inputs[key] = text;
      continue;
    }
    try {
      inputs[key] = JSON.parse(text);
    } catch {
      throw new UsageError(`run: --input ${key} is declared as ${declared.type}; give it as JSON, got "${text}".`);
    }
  }
  return inputs;
}

/** `--approve ID` and `--deny ID[=reason]` as decisions; a call named twice is left to the decision check. */
function parseDecisions(approve: string[], deny: string[], by: string | undefined): WorkflowApprovalDecision[] {
  const who = by === undefined ? {} : { by };
  const decisions: WorkflowApprovalDecision[] = approve.map((id) => ({ id, approved: true, ...who }));
  for (const value of deny) {
    const equals = value.indexOf('=');
    const id = equals === -1 ? value : value.slice(0, equals);
    const reason = equals === -1 ? undefined : value.slice(equals + 1);
    decisions.push({ id, approved: false, ...(reason === undefined || reason === '' ? {} : { reason }), ...who });
  }
  for (const decision of decisions) {
    if (decision.id === '') throw new UsageError('run: --approve and --deny need the id of a pending call (such as mail.call-1-1).');
  }
  return decisions;
}

function describeStepEnd(event: Extract<WorkflowEvent, { type: 'step-end' }>): string {
  return event.error ? `${event.stepId}: ${event.status} (${event.error.code}: ${event.error.message})` : `${event.stepId}: ${event.status}`;
}

export async function runCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine('run', args, {
    input: { type: 'string', multiple: true },
    model: { type: 'string' },
    'checkpoint-dir': { type: 'string' },
    resume: { type: 'string' },
    'run-id': { type: 'string' },
    root: { type: 'string', multiple: true },
    out: { type: 'string' },
    plugin: { type: 'string', multiple: true },
    config: { type: 'string' },
    'metrics-file': { type: 'string' },
    redis: { type: 'string' },
    concurrency: { type: 'string' },
    sequences: { type: 'string' },
    approve: { type: 'string', multiple: true },
    deny: { type: 'string', multiple: true },
    'decided-by': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    context.stdout.write(`${runHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`run: expected one workflow file, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}.`);
  if (values.resume !== undefined && values['checkpoint-dir'] === undefined && values.redis === undefined) {
    throw new UsageError('run: --resume needs --checkpoint-dir, the folder the run was journaled to (or --redis URL, for a run journaled in Redis).');
  }
  const concurrency = integerOption('run', 'concurrency', values.concurrency);
  const sequences = sequencesOption('run', values.sequences);
  const deciding = values.approve !== undefined || values.deny !== undefined;
  if (deciding && values.resume === undefined) {
    throw new UsageError('run: --approve and --deny decide the pending calls of a suspended run; give the run with --resume RUN_ID.');
  }
  if (values['decided-by'] !== undefined && !deciding) throw new UsageError('run: --decided-by goes with --approve or --deny.');
  const decisions = deciding ? parseDecisions(values.approve ?? [], values.deny ?? [], values['decided-by']) : undefined;
  const workflowFile = path.resolve(context.cwd, positionals[0]!);
  const config = await loadCliConfig({ workflowFile, configFile: values.config === undefined ? undefined : path.resolve(context.cwd, values.config) });
  const extraRoots = (values.root ?? []).map((root) => path.resolve(context.cwd, root));
  // A --root named on the command line is where the user wants output: create it, as `mkdir -p` would.
  for (const root of extraRoots) await mkdir(root, { recursive: true });
  const workflowDir = path.dirname(workflowFile);
  // A workflow folder is not trusted to widen its own sandbox: a config root outside it (such as `/`) must also be
  // named with --root. The working directory is no root by default (a workflow run from $HOME must not write there).
  const outside = config.roots.filter((root) => !isInside(root, workflowDir) && !extraRoots.some((extra) => isInside(root, extra)));
  if (outside.length > 0) {
    throw new UsageError(
      `run: ${config.file} adds ${outside.join(', ')} as tool root${outside.length > 1 ? 's' : ''}, outside the workflow's folder ${workflowDir}; ` +
        `allow ${outside.length > 1 ? 'them' : 'it'} explicitly with ${outside.map((root) => `--root ${root}`).join(' ')}.`,
      { details: { file: config.file, roots: outside } },
    );
  }
  // Writes go only to an explicit output folder (and --root folders): a third-party workflow cannot overwrite its own
  // folder's files, the working directory or anything a config root names.
  const outDir = values.out === undefined ? path.join(workflowDir, 'out') : path.resolve(context.cwd, values.out);
  await mkdir(outDir, { recursive: true });
  const roots = [workflowDir, ...config.roots, ...extraRoots, outDir];
  const writeRoots = [outDir, ...extraRoots];
  // Tool steps are written by the workflow's author, so they may write in the output folders; agents get read-only tools.
  const tools = new ToolRegistry([...pdfTools, ...financeTools, ...documentTools, ...fileTools], { roots, writeRoots, allowWrites: true });
  for (const plugin of [...config.plugins, ...(values.plugin ?? [])]) await tools.use(plugin);
  const workflow = await Workflow.load(workflowFile, { tools });
  const inputs = parseInputs(values.input ?? [], workflow.spec);
  if (values.resume !== undefined && values.input !== undefined) throw new UsageError('run: --resume continues a run with its own inputs; drop --input.');

  const progress = new ProgressLine({ stream: context.stderr, disabled: values.json === true });
  const metricsFile = values['metrics-file'] === undefined ? undefined : path.resolve(context.cwd, values['metrics-file']);
  const metrics = metricsFile === undefined ? undefined : new AutoglmMetrics();
  let loaded: LanguageModel | undefined;
  let model: LanguageModel | undefined;
  // With --redis, workers run the steps with their own tools and models; this process only coordinates.
  const executor = values.redis === undefined ? undefined : new BullmqExecutor({ connection: values.redis, model: values.model ?? 'default' });
  try {
    if (needsModel(workflow.spec) && executor === undefined) {
      loaded = (await openModel({ model: values.model, context, ...sequences })).model;
      model = metrics === undefined ? loaded : instrumentModel(loaded, { metrics });
    }
    const total = workflow.spec.steps.length;
    let ended = 0;
    let running = '';
    let agentTokens = 0;
    let agentStart = 0;
    const onEvent = (event: WorkflowEvent) => {
      if (event.type === 'step-start') running = event.stepId;
      if (event.type === 'step-end') {
        ended += 1;
        if (running === event.stepId) running = '';
        progress.clear();
        if (!values.json) context.stderr.write(`  ${describeStepEnd(event)}\n`);
      }
      progress.bar(ended, total, `steps${running ? `, running ${running}` : ''}`, true);
    };
    const agents =
      model === undefined
        ? undefined
        : createWorkflowAgentRunner({
            model,
            files: tools.files,
            // Agents pick from the same tools as tool steps (agent.tools lists them); a call to files.write or any
            // tool that needs approval suspends the run until a person decides.
            tools,
            onEvent: (stepId, event) => {
              if (event.type === 'step-start') {
                agentTokens = 0;
                agentStart = Date.now();
              }
              if (event.type === 'text-delta') {
                agentTokens += 1;
                const seconds = (Date.now() - agentStart) / 1000;
                progress.bar(ended, total, `steps, ${stepId} agent step ${event.step}: ${agentTokens} tokens, ${(agentTokens / Math.max(seconds, 1e-3)).toFixed(1)} tokens/s`);
              }
            },
          });
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    let result: WorkflowRunResult;
    try {
      const common = { tools, model, agents, onEvent, metrics, signal: controller.signal, ...(executor === undefined ? {} : { executor }), ...(concurrency === undefined ? {} : { concurrency }) };
      const checkpointDir = values['checkpoint-dir'] === undefined ? undefined : path.resolve(context.cwd, values['checkpoint-dir']);
      result =
        values.resume === undefined
          ? await workflow.run({ ...common, inputs, checkpointDir, runId: values['run-id'] })
          : await Workflow.resume(values.resume, { ...common, checkpointDir, spec: workflow, ...(decisions === undefined ? {} : { decisions }) });
    } finally {
      process.off('SIGINT', onSignal);
      progress.clear();
      if (metricsFile !== undefined && metrics !== undefined) await writeFile(metricsFile, await metrics.text());
    }
    if (values.json) {
      context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else if (result.status === 'suspended') {
      const calls = (result.pendingApprovals ?? []).map((call) => `  ${call.id}: ${call.name} ${JSON.stringify(call.args)}`);
      context.stdout.write(`Run ${result.runId} of ${result.workflow}: suspended, waiting for approval of:\n${calls.join('\n')}\n`);
      context.stdout.write(
        values['checkpoint-dir'] === undefined
          ? 'The run was not journaled (no --checkpoint-dir), so it cannot continue: run it again with --checkpoint-dir DIR.\n'
          : `Continue with: autoglm run ${positionals[0]} --checkpoint-dir ${values['checkpoint-dir']} --resume ${result.runId} and one --approve CALL or --deny CALL=reason per call\n`,
      );
    } else {
      context.stdout.write(`Run ${result.runId} of ${result.workflow}: ${result.status} in ${((result.endedAt - result.startedAt) / 1000).toFixed(1)} s\n`);
      context.stdout.write(`Outputs:\n${JSON.stringify(result.outputs, null, 2)}\n`);
    }
    return result.status === 'succeeded' ? exitCodes.ok : result.status === 'suspended' ? exitCodes.suspended : exitCodes.failed;
  } finally {
    await loaded?.dispose();
    await executor?.close();
  }
}
