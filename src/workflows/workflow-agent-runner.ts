/**
 * The default `agents` runner of workflows: each `agent:` step runs an AutoAgent on the run's model.
 * `Workflow.run({ model })` makes one; build your own with `createWorkflowAgentRunner` to choose the tools agents
 * may use, the file roots, or to watch agent events.
 *
 * ```yaml
 * agent: { task: summarize_financial_report, maxSteps: 3, maxNewTokens: 384, temperature: 0, plan: false }
 * with: { inputFile: report.pdf, figures: "${{ steps.figures.output }}" }
 * ```
 */
import { z } from 'zod';
import { AutoAgent } from '../agent/auto-agent';
import type { AgentEvent } from '../agent/agent-events';
import type { AgentPausedState } from '../agent/tool-approval';
import { WorkflowSpecError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import type { FileAccess } from '../tools/tool';
import { ToolRegistry } from '../tools/tool-registry';
import type { AgentRunner } from './workflow-types';
import { StepSnapshot } from './step-snapshot';
import { agentStepSpecSchema } from './workflow-spec';
import { StepSuspension } from './step-suspension';

export interface WorkflowAgentRunnerOptions {
  model: LanguageModel;
  /** Resolves a step's `inputFile` (relative to the workflow's folder) to a real path inside the run's roots. */
  files: FileAccess;
  /**
   * The tools an agent step may list in `agent.tools` (a preset without that list uses its own read-only tools; a
   * free-text task without it gets none). Defaults to none.
   */
  tools?: ToolRegistry;
  /** Sees every agent event (progress display). */
  onEvent?: (stepId: string, event: AgentEvent) => void;
}

/** The agent step after its references were resolved: the load-time schema without the `${{ }}` alternatives. */
const agentStepOptions = z.strictObject({
  task: z.string({ error: 'task is required: a preset name or the task in words' }).min(1),
  instructions: z.string().optional(),
  maxSteps: z.coerce.number().int().min(1).max(1000).optional(),
  maxNewTokens: z.coerce.number().int().min(1).optional(),
  temperature: z.coerce.number().min(0).optional(),
  plan: z.boolean().optional(),
  seed: z.coerce.number().int().optional(),
  tools: z.array(z.string().min(1)).optional(),
} satisfies Record<keyof z.output<typeof agentStepSpecSchema>, z.ZodType>);

function selectTools(names: string[], registry: ToolRegistry | undefined, stepId: string): ToolRegistry {
  const unknown = names.filter((name) => registry?.get(name) === undefined);
  if (unknown.length > 0 || registry === undefined) {
    throw new WorkflowSpecError(`step "${stepId}", field "agent.tools": unknown or unavailable tools ${unknown.join(', ')}; agents may use ${registry?.list().map((tool) => tool.name).join(', ') || 'none'}.`, {
      details: { step: stepId, unknown },
    });
  }
  // The subset keeps the registry's approval policies (its `needsApproval` option included).
  const needsApproval = Object.fromEntries(names.flatMap((name) => (registry.approvalPolicy(name) === undefined ? [] : [[name, registry.approvalPolicy(name)!]])));
  return new ToolRegistry(
    names.map((name) => registry.get(name)!),
    { files: registry.files, needsApproval },
  );
}

export function createWorkflowAgentRunner(options: WorkflowAgentRunnerOptions): AgentRunner {
  return async (agent, input, ctx) => {
    const parsed = agentStepOptions.safeParse(agent);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'agent'}: ${issue.message}`).join('; ');
      throw new WorkflowSpecError(`step "${ctx.stepId}", field "agent": ${problems}.`, { details: { step: ctx.stepId } });
    }
    const spec = parsed.data;
    const isPreset = /^[a-z]+(_[a-z]+)+$/.test(spec.task);
    const autoAgent = new AutoAgent({
      task: spec.task,
      model: options.model,
      tools: spec.tools === undefined ? (isPreset ? undefined : []) : selectTools(spec.tools, options.tools, ctx.stepId),
      instructions: spec.instructions,
      maxSteps: spec.maxSteps,
      plan: spec.plan,
      generation: { maxNewTokens: spec.maxNewTokens, temperature: spec.temperature },
      logger: ctx.logger,
    });
    let agentInput: Record<string, unknown> = input;
    if (typeof input.inputFile === 'string') agentInput = { ...input, inputFile: await options.files.resolve(input.inputFile) };
    const snapshot = ctx.kvSnapshot === undefined ? undefined : new StepSnapshot(options.model, ctx);
    await snapshot?.restore();
    const runOptions = { signal: ctx.signal, seed: spec.seed };
    const events =
      ctx.resume === undefined
        ? autoAgent.stream(agentInput, runOptions)
        : autoAgent.resumeStream(ctx.resume.state as AgentPausedState, ctx.resume.decisions, runOptions);
    for await (const event of events) {
      options.onEvent?.(ctx.stepId, event);
      if (event.type === 'final') {
        // The agent waits for a person: the step suspends durably (the runner journals the state and the calls) and
        // keeps its snapshot for the attempt that continues it.
        if (event.result.finishReason === 'approval-required') throw new StepSuspension(event.result.pendingApprovals, event.result.state);
        // An aborted agent (a cancelled run, a timeout) keeps its snapshot for the attempt that runs the step again.
        if (event.result.finishReason !== 'abort') await snapshot?.remove();
        return event.result.output;
      }
      await snapshot?.observe(event);
    }
    throw new WorkflowSpecError(`step "${ctx.stepId}": the agent ended without a result.`);
  };
}
