/**
 * The plan the model writes before acting: the ordered tool calls it intends. Constrained to the registered tool
 * names, so a plan never names a tool that does not exist.
 */
import { z } from 'zod';

export interface AgentPlanStep {
  /** The tool this step intends to call. */
  tool: string;
  /** What the call is for, in a few words. */
  goal: string;
}

export interface AgentPlan {
  /** Tool calls in order; the final answer follows them. Empty means "answer now". */
  steps: AgentPlanStep[];
}

/** The JSON shape the model must write for a plan, bounded so a small model cannot ramble. */
export function createPlanSchema(toolNames: readonly string[], maxSteps: number): z.ZodType<AgentPlan> {
  const tool = toolNames.length > 0 ? z.enum(toolNames as [string, ...string[]]) : z.never();
  return z.object({
    steps: z
      .array(z.object({ tool, goal: z.string().max(160) }))
      .max(Math.max(1, maxSteps)),
  }) as z.ZodType<AgentPlan>;
}
