/**
 * AutoAgent's options, their defaults, and their validation (at the constructor, once).
 */
import { z } from 'zod';
import { AgentError } from '../errors';
import { assertKnownNames } from '../strict-options';
import type { LanguageModel } from '../models/language-model';
import type { Logger } from '../observability/logger';
import { silentLogger } from '../observability/logger';
import type { Tool } from '../tools/tool';
import type { ToolRegistry } from '../tools/tool-registry';
import { isAgentTools, type AgentTools } from './agent-tools';
import { findTaskPreset, taskPresets } from './presets/task-presets';
import type { TaskPreset } from './presets/task-preset';
import type { AgentRunOptions } from './agent-events';
import type { PrepareStep } from './prepare-step';
import type { StopCondition } from './stop-condition';

export interface AutoAgentContextOptions {
  /** Most turns kept in the prompt (a tool call with its observation, or an earlier run's exchange). Defaults to 5. */
  maxTurns?: number;
  /** Most prompt tokens. Defaults to the model's context length minus `generation.maxNewTokens`. */
  maxTokens?: number;
}

export interface AutoAgentGenerationOptions {
  /** Token budget of each step. Defaults to the preset's budget, else 512. */
  maxNewTokens?: number;
  /** 0 is greedy. Defaults to the model's default. */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /**
   * Grammar-constrain every step (tool calls valid by construction, answers valid for `schema`). Defaults to true.
   * With false, outputs are parsed leniently; a malformed call becomes an error observation and the step counts.
   */
  constrained?: boolean;
  /** Let the engine reuse the KV cache of the previous step's prompt. Defaults to true. */
  prefixCache?: boolean;
}

export interface AutoAgentOptions<Output = unknown> {
  /** What to do: free text, or the name of a preset (`summarize_financial_report`). */
  task: string;
  /**
   * A LanguageModel (not disposed by the agent), or a model directory or hub id (loaded on first run with
   * `loadModel`, disposed by `dispose`). Required.
   */
  model?: LanguageModel | string;
  /** Loads a model directory. Defaults to `GlmModel.load`. */
  loadModel?: (directory: string) => Promise<LanguageModel>;
  /**
   * The tools the agent may call: a ToolRegistry, or an array (wrapped in a new ToolRegistry whose file access is
   * rooted at `roots`). Defaults to the preset's tools, else none.
   */
  tools?: ToolRegistry | Tool[];
  /**
   * Directories tools may read through `ctx.files` when the agent builds the registry (as ToolRegistry's `roots`).
   * Defaults to the input file's directory.
   */
  roots?: string[];
  /**
   * Schema of the final answer (as GlmModel's generate `schema`): the answer is grammar-constrained to it and parsed
   * into `result.output`. Defaults to the preset's, else a string answer.
   */
  schema?: z.ZodType<Output>;
  /** Extra instructions, added after the task (and the preset's instructions). */
  instructions?: string;
  /** Most model steps per run (plans included); the last one is constrained to the final answer. Defaults to 12. */
  maxSteps?: number;
  context?: AutoAgentContextOptions;
  /** Ask for a plan before acting, and replan after a failure or an exhausted plan. Defaults to true. */
  plan?: boolean;
  generation?: AutoAgentGenerationOptions;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /**
   * When to stop calling tools, as data: `stepCountIs(n)`, `hasToolCall(name)` or your own `({ stepNumber, steps })
   * => boolean`. Evaluated after each step that did not end the run; once any is met, the next step is constrained to
   * the final answer and the run ends with finishReason `stop-condition`. `maxSteps` still applies. Defaults to none.
   */
  stopWhen?: StopCondition | StopCondition[];
  /**
   * Called before each step with `{ stepNumber, steps }`; may return `{ temperature?, toolChoice?, tools? }` (tools: a
   * subset of the tool names) for that step's generation, or undefined. Unknown keys or bad values are an AgentError.
   * A step forced to the final answer applies only `temperature`. Defaults to none.
   */
  prepareStep?: PrepareStep;
}

export interface ResolvedAutoAgentOptions {
  task: string;
  instructions: string | undefined;
  preset: TaskPreset | undefined;
  model: LanguageModel | string;
  loadModel: ((directory: string) => Promise<LanguageModel>) | undefined;
  tools: AgentTools | Tool[] | undefined;
  roots: string[] | undefined;
  /** The `schema` option, else the preset's (named as the run loop and the prompts read it). */
  output: z.ZodType | undefined;
  maxSteps: number;
  maxTurns: number;
  maxTokens: number | undefined;
  plan: boolean;
  generation: Required<Pick<AutoAgentGenerationOptions, 'maxNewTokens' | 'constrained' | 'prefixCache'>> &
    Pick<AutoAgentGenerationOptions, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>;
  logger: Logger;
  stopWhen: StopCondition[];
  prepareStep: PrepareStep | undefined;
}

/** The names each options object accepts; the `satisfies` keeps these lists in step with the interfaces. */
const optionNames = Object.keys({
  task: true,
  model: true,
  loadModel: true,
  tools: true,
  roots: true,
  schema: true,
  instructions: true,
  maxSteps: true,
  context: true,
  plan: true,
  generation: true,
  logger: true,
  stopWhen: true,
  prepareStep: true,
} satisfies Record<keyof AutoAgentOptions, true>);
const contextOptionNames = Object.keys({ maxTurns: true, maxTokens: true } satisfies Record<keyof AutoAgentContextOptions, true>);
const generationOptionNames = Object.keys({
  maxNewTokens: true,
  temperature: true,
  topK: true,
  topP: true,
  repetitionPenalty: true,
  constrained: true,
  prefixCache: true,
} satisfies Record<keyof AutoAgentGenerationOptions, true>);
const runOptionNames = Object.keys({ signal: true, seed: true, session: true } satisfies Record<keyof AgentRunOptions, true>);

/** Refuses run option names `agent.run` / `agent.stream` do not know (`abortSignal`, `maxSteps`, ...). */
export function checkAgentRunOptions(options: AgentRunOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new AgentError(`AutoAgent run options must be an object, got ${JSON.stringify(options) ?? String(options)}.`);
  }
  assertKnownNames(options, runOptionNames, { where: 'AutoAgent run options', error: AgentError, hint: 'Agent settings (maxSteps, generation, ...) belong in the AutoAgent options.' });
}

const positiveInteger = (name: string) =>
  z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`).min(1, `${name} must be >= 1`);

const isLanguageModel = (value: unknown): value is LanguageModel =>
  typeof value === 'object' &&
  value !== null &&
  ['generate', 'stream', 'countTokens', 'dispose'].every((key) => typeof (value as Record<string, unknown>)[key] === 'function');

const isTool = (value: unknown): value is Tool =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Tool).name === 'string' &&
  typeof (value as Tool).execute === 'function' &&
  typeof (value as Tool).input?.safeParse === 'function';

const isFunction = (value: unknown): boolean => typeof value === 'function';

const optionsSchema = z.object({
  task: z.string({ error: 'task must be a string (free text or a preset name)' }).trim().min(1, 'task must not be empty'),
  model: z
    .union([z.string().min(1, 'model must not be an empty path'), z.custom<LanguageModel>(isLanguageModel)], {
      error: 'model must be a LanguageModel (generate, stream, countTokens, dispose) or a model directory path',
    })
    .optional(),
  loadModel: z.custom<(directory: string) => Promise<LanguageModel>>((value) => typeof value === 'function', 'loadModel must be a function').optional(),
  tools: z
    .union([z.array(z.custom<Tool>(isTool, 'each tool needs a name, an input zod schema and execute')), z.custom<AgentTools>(isAgentTools)], {
      error: 'tools must be a ToolRegistry (has, call, toolSpecs) or an array of tools',
    })
    .optional(),
  roots: z.array(z.string().min(1, 'roots must not hold an empty path'), { error: 'roots must be an array of directory paths' }).optional(),
  schema: z.custom<z.ZodType>((value) => value instanceof z.ZodType, 'schema must be a zod schema').optional(),
  instructions: z.string().optional(),
  maxSteps: positiveInteger('maxSteps').max(1000, 'maxSteps must be <= 1000').optional(),
  context: z
    .object({ maxTurns: positiveInteger('context.maxTurns').optional(), maxTokens: positiveInteger('context.maxTokens').optional() })
    .strict()
    .optional(),
  plan: z.boolean({ error: 'plan must be a boolean' }).optional(),
  generation: z
    .object({
      maxNewTokens: positiveInteger('generation.maxNewTokens').optional(),
      temperature: z.number().min(0, 'generation.temperature must be >= 0').optional(),
      topK: z.number().int().min(0).optional(),
      topP: z.number().gt(0).max(1).optional(),
      repetitionPenalty: z.number().gt(0).optional(),
      constrained: z.boolean().optional(),
      prefixCache: z.boolean().optional(),
    })
    .strict()
    .optional(),
  logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null && typeof (value as Logger).info === 'function', 'logger must be a pino logger').optional(),
  stopWhen: z
    .union([z.custom<StopCondition>(isFunction), z.array(z.custom<StopCondition>(isFunction))], {
      error: 'stopWhen must be a stop condition (a function such as stepCountIs(5)) or an array of them',
    })
    .optional(),
  prepareStep: z.custom<PrepareStep>(isFunction, 'prepareStep must be a function ({ stepNumber, steps }) => settings | undefined').optional(),
});

/** Validate the options and fill in the defaults; throws AgentError naming every bad field. */
export function resolveAutoAgentOptions(options: AutoAgentOptions<unknown>): ResolvedAutoAgentOptions {
  if (typeof options !== 'object' || options === null) {
    throw new AgentError('AutoAgent needs an options object: new AutoAgent({ task, model }).');
  }
  assertKnownNames(options, optionNames, { where: 'AutoAgent options', error: AgentError });
  assertKnownNames(options.context, contextOptionNames, { where: 'AutoAgent options.context', error: AgentError });
  assertKnownNames(options.generation, generationOptionNames, { where: 'AutoAgent options.generation', error: AgentError });
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`);
    throw new AgentError(`AutoAgent options are invalid: ${problems.join('; ')}.`, { details: { issues: problems } });
  }
  const value = parsed.data;
  const model = value.model;
  if (model === undefined) {
    throw new AgentError('AutoAgent options: `model` is missing: pass a LanguageModel, or a model directory or hub id as `model`.');
  }
  const preset = findTaskPreset(value.task);
  if (value.tools !== undefined) {
    if (Array.isArray(value.tools)) {
      const seen = new Set<string>();
      for (const tool of value.tools) {
        if (seen.has(tool.name)) throw new AgentError(`AutoAgent options: tools: two tools are named "${tool.name}"; tool names must be unique.`);
        seen.add(tool.name);
      }
    }
    const tools = value.tools;
    const has = (name: string) => (Array.isArray(tools) ? tools.some((tool) => tool.name === name) : tools.has(name));
    const missing = preset?.toolNames.filter((name) => !has(name)) ?? [];
    if (missing.length > 0) {
      throw new AgentError(
        `AutoAgent options: the preset "${preset!.name}" needs the tools ${preset!.toolNames.join(', ')}, but \`tools\` lacks ${missing.join(', ')}: add them, or leave \`tools\` out to use the preset's built-in tools.`,
        { details: { missing } },
      );
    }
  }
  if (preset === undefined && /^[a-z]+(_[a-z]+)+$/.test(value.task)) {
    // A snake_case word that is no preset is almost always a misspelt preset name, not a task description.
    throw new AgentError(
      `AutoAgent options: task "${value.task}" is not a known preset (${Object.keys(taskPresets).join(', ')}); describe the task in words or use a preset name.`,
    );
  }
  const instructions = [preset?.instructions, value.instructions].filter((text) => text !== undefined && text.trim() !== '').join('\n');
  return {
    task: preset?.task ?? value.task,
    instructions: instructions === '' ? undefined : instructions,
    preset,
    model,
    loadModel: value.loadModel,
    tools: value.tools,
    roots: value.roots,
    output: value.schema ?? preset?.schema,
    maxSteps: value.maxSteps ?? 12,
    maxTurns: value.context?.maxTurns ?? 5,
    maxTokens: value.context?.maxTokens,
    plan: value.plan ?? true,
    generation: {
      maxNewTokens: value.generation?.maxNewTokens ?? preset?.maxNewTokens ?? 512,
      constrained: value.generation?.constrained ?? true,
      prefixCache: value.generation?.prefixCache ?? true,
      temperature: value.generation?.temperature,
      topK: value.generation?.topK,
      topP: value.generation?.topP,
      repetitionPenalty: value.generation?.repetitionPenalty,
    },
    logger: value.logger ?? silentLogger(),
    stopWhen: value.stopWhen === undefined ? [] : Array.isArray(value.stopWhen) ? value.stopWhen : [value.stopWhen],
    prepareStep: value.prepareStep,
  };
}
