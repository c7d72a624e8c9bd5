/**
 * The shape of a workflow file, as zod schemas. Unknown fields are refused (a typo such as `retyr` must not be
 * silently ignored); graph checks (needs, cycles, references, tools) happen afterwards in `validateWorkflowSpec`.
 */
import { z } from 'zod';
import { maxTimerDelayMs } from '../with-deadline';

const stepIdPattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const inputSpecSchema = z.strictObject({
  /** The JSON type of the input. */
  type: z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']),
  description: z.string().optional(),
  /** Inputs without a default are required unless `required: false`. */
  required: z.boolean().optional(),
  default: z.unknown().optional(),
});

/** A delay Node's timers can hold: setTimeout fires at once for anything past 2^31 - 1 ms (about 24.8 days). */
const timerMs = z.number().max(maxTimerDelayMs, `must be at most ${maxTimerDelayMs} ms (2^31 - 1, about 24.8 days), the longest timer Node can set`);

export const retrySpecSchema = z.strictObject({
  /** Retries after the first attempt (so `max + 1` attempts in all). Defaults to 0. */
  max: z.number().int().min(0).max(100).default(0),
  /** `fixed` waits `initialMs` each time; `exponential` doubles it per retry. Defaults to `exponential`. */
  backoff: z.enum(['fixed', 'exponential']).default('exponential'),
  /** The first delay. Defaults to 100 ms. */
  initialMs: timerMs.min(0).default(100),
  /** The upper bound of any delay. Defaults to 30 000 ms. */
  maxMs: timerMs.min(0).default(30_000),
  /** Random reduction of each delay, 0..1 (`true` = 1, full jitter). Defaults to 0. */
  jitter: z.union([z.boolean(), z.number().min(0).max(1)]).default(0).transform((j) => (j === true ? 1 : j === false ? 0 : j)),
});

/** A whole-value `${{ }}` reference, resolved when the step runs (and checked again then). */
const reference = z.string().regex(/^\s*\$\{\{[\s\S]*\}\}\s*$/, 'expected a value or a ${{ }} reference');
const orReference = <T extends z.ZodType>(schema: T) => z.union([schema, reference]);

/**
 * An agent step, run by the `agents` runner of `run()` (by default an AutoAgent on the run's model). Unknown fields
 * are refused at load time, like every other field of a workflow.
 */
export const agentStepSpecSchema = z.strictObject({
  /** A task preset name (`summarize_financial_report`) or the task in words. */
  task: z.string({ error: 'task is required: a preset name or the task in words' }).min(1),
  /** Extra instructions appended to the task's. */
  instructions: z.string().optional(),
  /** Most model steps. Defaults to the AutoAgent default (12). */
  maxSteps: orReference(z.number().int().min(1).max(1000)).optional(),
  /** Token budget per model step. Defaults to the preset's, else 512. */
  maxNewTokens: orReference(z.number().int().min(1)).optional(),
  temperature: orReference(z.number().min(0)).optional(),
  /** Whether the agent writes a plan first. Defaults to true. */
  plan: orReference(z.boolean()).optional(),
  /** Seed of sampled generation. */
  seed: orReference(z.number().int()).optional(),
  /** Names of the tools the agent may call (from the runner's registry). A preset without it uses its own tools. */
  tools: orReference(z.array(z.string().min(1))).optional(),
});

export const failurePolicySchema = z.enum(['fail', 'continue', 'skip-dependents']);

export interface StepSpecInput {
  id: string;
  name?: string;
  uses?: string;
  agent?: Record<string, unknown>;
  workflow?: string | WorkflowSpecInput;
  with?: Record<string, unknown>;
  needs?: string | string[];
  if?: string | boolean;
  retry?: Partial<z.input<typeof retrySpecSchema>>;
  timeoutMs?: number;
  onFailure?: z.infer<typeof failurePolicySchema>;
  usesModel?: boolean;
}

export interface WorkflowSpecInput {
  name: string;
  version?: string | number;
  description?: string;
  inputs?: Record<string, z.input<typeof inputSpecSchema>>;
  concurrency?: number;
  outputs?: Record<string, unknown>;
  steps: StepSpecInput[];
}

export const stepSpecSchema = z.strictObject({
  id: z.string().regex(stepIdPattern, 'expected an id of letters, digits, "_" or "-", starting with a letter or "_"'),
  name: z.string().optional(),
  /** A registered tool name. */
  uses: z.string().min(1).optional(),
  agent: agentStepSpecSchema.optional(),
  /** A nested workflow: an inline spec, or a path to a YAML file (relative to the parent file). */
  get workflow() {
    return z.union([z.string().min(1), workflowSpecSchema]).optional();
  },
  with: z.record(z.string(), z.unknown()).optional(),
  needs: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((n) => (n === undefined ? [] : typeof n === 'string' ? [n] : n)),
  if: z.union([z.string().min(1), z.boolean()]).optional(),
  retry: retrySpecSchema.optional(),
  /** Each attempt's time limit, at most 2^31 - 1 ms. Defaults to none. */
  timeoutMs: timerMs.int().positive().optional(),
  onFailure: failurePolicySchema.default('fail'),
  /** Route this step through the model queue (as many at once as the model runs sequences). Agent steps always are. */
  usesModel: z.boolean().optional(),
});

export const workflowSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** Part of the spec hash that checkpoints record; bump it when a step's meaning changes. */
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  inputs: z.record(z.string().regex(stepIdPattern, 'expected an input name of letters, digits, "_" or "-"'), inputSpecSchema).default({}),
  concurrency: z.number().int().positive().optional(),
  outputs: z.record(z.string(), z.unknown()).optional(),
  get steps() {
    return z.array(stepSpecSchema).min(1, 'a workflow needs at least one step');
  },
});

export type RetrySpec = z.output<typeof retrySpecSchema>;
export type FailurePolicy = z.output<typeof failurePolicySchema>;
export type InputSpec = z.output<typeof inputSpecSchema>;
export type AgentStepSpec = z.output<typeof agentStepSpecSchema>;

/** A validated step. `workflow` is always an inline spec once loaded (files are read at load time). */
export interface StepSpec {
  id: string;
  name?: string;
  uses?: string;
  agent?: AgentStepSpec;
  workflow?: WorkflowSpec;
  with?: Record<string, unknown>;
  needs: string[];
  if?: string | boolean;
  retry?: RetrySpec;
  timeoutMs?: number;
  onFailure: FailurePolicy;
  usesModel?: boolean;
}

/** A validated workflow spec. */
export interface WorkflowSpec {
  name: string;
  version?: string | number;
  description?: string;
  inputs: Record<string, InputSpec>;
  concurrency?: number;
  outputs?: Record<string, unknown>;
  steps: StepSpec[];
}
