/**
 * Stop conditions: loop policy as data. AutoAgent evaluates its `stopWhen` conditions after every step that did not
 * end the run; when one is met, the next step is constrained to the final answer (finishReason `stop-condition`).
 */
import { AgentError } from '../errors';
import type { AgentStep } from './agent-events';

/** What a stop condition sees: the step records of the run so far (several records share a step index when one turn called several tools). */
export interface StopConditionContext {
  /** The number of the step that just ended (1-based). */
  stepNumber: number;
  steps: readonly AgentStep[];
}

/** True to stop calling tools and answer at the next step. */
export type StopCondition = (context: StopConditionContext) => boolean | PromiseLike<boolean>;

/** Met once `count` model steps (plans included) have run. */
export function stepCountIs(count: number): StopCondition {
  if (!Number.isInteger(count) || count < 1) {
    throw new AgentError(`stepCountIs: expected \`count\` to be an integer >= 1, got ${JSON.stringify(count) ?? String(count)}.`, {
      details: { field: 'count', value: count },
    });
  }
  return ({ stepNumber }) => stepNumber >= count;
}

/** Met when the step that just ended called the tool `name` (alone or among parallel calls). */
export function hasToolCall(name: string): StopCondition {
  if (typeof name !== 'string' || name === '') {
    throw new AgentError(`hasToolCall: expected \`name\` to be a tool name, got ${JSON.stringify(name) ?? String(name)}.`, {
      details: { field: 'name', value: name },
    });
  }
  return ({ stepNumber, steps }) => steps.some((step) => step.index === stepNumber && step.toolCall?.name === name);
}

/** True when any condition is met; a condition that throws is reported as an AgentError naming `stopWhen`. */
export async function isStopConditionMet(conditions: readonly StopCondition[], context: StopConditionContext): Promise<boolean> {
  for (const [index, condition] of conditions.entries()) {
    let met: boolean;
    try {
      met = await condition(context);
    } catch (error) {
      throw new AgentError(`AutoAgent: stopWhen[${index}] threw after step ${context.stepNumber}: ${(error as Error)?.message ?? String(error)}. Fix the condition.`, {
        cause: error,
        details: { field: 'stopWhen', index, step: context.stepNumber },
      });
    }
    if (met === true) return true;
  }
  return false;
}
