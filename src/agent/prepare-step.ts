/**
 * The `prepareStep` hook: per-step settings as data. AutoAgent calls it before each generation and applies what it
 * returns to that step only.
 */
import { AgentError } from '../errors';
import { assertKnownNames } from '../strict-options';
import type { AgentStep } from './agent-events';

export interface PrepareStepContext {
  /** The step about to run (1-based). */
  stepNumber: number;
  /** The step records of the run so far. */
  steps: readonly AgentStep[];
}

/** Settings for one step; each left out keeps the agent's own. */
export interface PrepareStepResult {
  /** Sampling temperature of this step (0 is greedy). Defaults to `generation.temperature`. */
  temperature?: number;
  /**
   * 'auto' (call or answer), 'none' (answer only) or 'required' (one call only), for a plan or act step. A step
   * already constrained to the final answer ignores it. Defaults to 'auto'.
   */
  toolChoice?: 'auto' | 'none' | 'required';
  /** Names of the tools this step may call (and whose specs the prompt shows), a subset of the agent's. Defaults to all. */
  tools?: string[];
}

/** Returns settings for the step about to run, or undefined to keep the defaults. */
export type PrepareStep = (context: PrepareStepContext) => PrepareStepResult | undefined | PromiseLike<PrepareStepResult | undefined>;

const resultNames = Object.keys({ temperature: true, toolChoice: true, tools: true } satisfies Record<keyof PrepareStepResult, true>);

/** Calls the hook and validates its result; every problem is an AgentError naming the step and the field. */
export async function runPrepareStep(prepareStep: PrepareStep, context: PrepareStepContext, toolNames: readonly string[]): Promise<PrepareStepResult> {
  const where = `AutoAgent prepareStep result (step ${context.stepNumber})`;
  let result: PrepareStepResult | undefined;
  try {
    result = await prepareStep(context);
  } catch (error) {
    throw new AgentError(`AutoAgent: prepareStep threw before step ${context.stepNumber}: ${(error as Error)?.message ?? String(error)}. Fix the hook.`, {
      cause: error,
      details: { field: 'prepareStep', step: context.stepNumber },
    });
  }
  if (result === undefined) return {};
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw invalid(where, 'result', result, 'an object { temperature?, toolChoice?, tools? } or undefined');
  }
  assertKnownNames(result, resultNames, { where, error: AgentError });
  const { temperature, toolChoice, tools } = result;
  if (temperature !== undefined && (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)) {
    throw invalid(where, 'temperature', temperature, 'a finite number >= 0');
  }
  if (toolChoice !== undefined && !['auto', 'none', 'required'].includes(toolChoice)) {
    throw invalid(where, 'toolChoice', toolChoice, "'auto', 'none' or 'required'");
  }
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.length === 0 || tools.some((name) => typeof name !== 'string')) {
      throw invalid(where, 'tools', tools, "a non-empty array of tool names (to allow no call, return toolChoice: 'none')");
    }
    const unknown = tools.filter((name) => !toolNames.includes(name));
    if (unknown.length > 0) {
      throw invalid(where, 'tools', tools, `names of the agent's tools (${toolNames.join(', ') || 'it has none'}); unknown: ${unknown.join(', ')}`);
    }
  }
  return result;
}

function invalid(where: string, field: string, value: unknown, expected: string): AgentError {
  return new AgentError(`${where}: expected \`${field}\` to be ${expected}, got ${JSON.stringify(value) ?? String(value)}.`, {
    details: { field, value },
  });
}
