/**
 * AutoAgent: give it a task, a model and tools; `run(input)` plans, calls tools, observes and answers, with every
 * step grammar-constrained to a valid tool call or answer. The loop itself is in agent-run.ts.
 */
import path from 'node:path';
import { AgentError } from '../errors';
import type { LanguageModel, ToolSpec } from '../models/language-model';
import type { Tool } from '../tools/tool';
import { ToolRegistry } from '../tools/tool-registry';
import type { AgentEvent, AgentInput, AgentResult, AgentRunOptions } from './agent-events';
import { systemMessage } from './agent-prompts';
import { runAgent } from './agent-run';
import { isAgentTools, type AgentTools } from './agent-tools';
import { resolveAutoAgentOptions, type AutoAgentOptions, type ResolvedAutoAgentOptions } from './auto-agent-options';
import { ContextWindow } from './context-window';
import { loadGlmModel } from './default-modules';

export class AutoAgent<Output = unknown> {
  #options: ResolvedAutoAgentOptions;
  #model: LanguageModel | undefined;
  #modelLoading: Promise<LanguageModel> | undefined;
  #ownsModel: boolean;
  #defaultTools: Promise<Tool[]> | undefined;
  #specs: ToolSpec[] | undefined;
  #window: ContextWindow;
  #running = false;
  #disposed = false;

  constructor(options: AutoAgentOptions<Output>) {
    this.#options = resolveAutoAgentOptions(options as AutoAgentOptions<unknown>);
    this.#ownsModel = typeof this.#options.model === 'string';
    if (!this.#ownsModel) this.#model = this.#options.model as LanguageModel;
    this.#window = new ContextWindow({
      maxTurns: this.#options.maxTurns,
      maxTokens: Number.MAX_SAFE_INTEGER,
      countTokens: (messages) => this.#model!.countTokens(messages, this.#specs?.length ? { tools: this.#specs } : {}),
    });
  }

  /** The task text shown to the model (a preset's text when `task` named a preset). */
  get task(): string {
    return this.#options.task;
  }

  /** The context window: the turns the next prompt is built from (earlier runs' exchanges are kept across runs). */
  get context(): ContextWindow {
    return this.#window;
  }

  /** Run the task on `input` and resolve to its result (the `final` event of `stream`). */
  async run(input: AgentInput, options: AgentRunOptions = {}): Promise<AgentResult<Output>> {
    for await (const event of this.stream(input, options)) {
      if (event.type === 'final') return event.result;
    }
    throw new AgentError('AutoAgent: the run ended without a final event; this is a bug in the agent loop.');
  }

  /** Run the task on `input`, yielding its events as they happen; the last one is `final`. */
  async *stream(input: AgentInput, options: AgentRunOptions = {}): AsyncGenerator<AgentEvent<Output>, void, undefined> {
    if (this.#disposed) throw new AgentError('AutoAgent: the agent was disposed; create a new one to run again.');
    validateInput(input);
    // The tools' sandbox resolves relative paths against its first root, not the caller's working directory: give
    // the model the absolute path.
    if (typeof input === 'object' && typeof input.inputFile === 'string') input = { ...input, inputFile: path.resolve(input.inputFile) };
    if (this.#running) {
      throw new AgentError('AutoAgent: a run is already in progress; an agent runs one input at a time (await it, or create another agent).');
    }
    this.#running = true;
    try {
      const model = await this.#resolveModel();
      const tools = await this.#resolveTools(input);
      this.#specs = tools?.toolSpecs();
      const maxTokens = this.#options.maxTokens ?? model.info.contextLength - this.#options.generation.maxNewTokens;
      if (maxTokens < 1) {
        throw new AgentError(
          `AutoAgent: the model's context (${model.info.contextLength} tokens) leaves no room for prompts after generation.maxNewTokens (${this.#options.generation.maxNewTokens}): lower generation.maxNewTokens.`,
        );
      }
      this.#window.setLimits({ maxTokens });
      this.#window.setSystem([
        systemMessage({
          task: this.#options.task,
          instructions: this.#options.instructions,
          output: this.#options.output,
          hasTools: (this.#specs?.length ?? 0) > 0,
          plan: this.#options.plan,
          ...(model.chatFormat === undefined ? {} : { format: model.chatFormat }),
        }),
      ]);
      yield* runAgent({
        model,
        tools,
        window: this.#window,
        options: this.#options,
        input,
        signal: options.signal ?? new AbortController().signal,
        seed: options.seed,
      }) as AsyncGenerator<AgentEvent<Output>, void, undefined>;
    } finally {
      this.#running = false;
    }
  }

  /** Dispose the model if the agent loaded it (a model passed in belongs to the caller and stays open). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (!this.#ownsModel) return;
    const model = this.#model ?? (await this.#modelLoading?.catch(() => undefined));
    this.#model = undefined;
    await model?.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #resolveModel(): Promise<LanguageModel> {
    if (this.#model !== undefined) return this.#model;
    const directory = this.#options.model as string;
    const load = this.#options.loadModel ?? loadGlmModel;
    this.#modelLoading ??= load(directory);
    try {
      this.#model = await this.#modelLoading;
    } catch (error) {
      this.#modelLoading = undefined;
      throw error;
    }
    if (this.#disposed) {
      await this.#model.dispose();
      throw new AgentError('AutoAgent: the agent was disposed while its model was loading.');
    }
    return this.#model;
  }

  /**
   * The run's tools: a given registry as is; an array (or a preset's default tools) in a new ToolRegistry whose file
   * access is rooted at `fileRoots`, else at the input file's directory.
   */
  async #resolveTools(input: AgentInput): Promise<AgentTools | undefined> {
    const given = this.#options.tools;
    if (given !== undefined && isAgentTools(given)) return given;
    let tools: Tool[] | undefined = given;
    if (tools === undefined && this.#options.preset?.loadDefaultTools !== undefined) {
      this.#defaultTools ??= this.#options.preset.loadDefaultTools();
      try {
        tools = await this.#defaultTools;
      } catch (error) {
        this.#defaultTools = undefined;
        throw error;
      }
    }
    if (tools === undefined) return undefined;
    const inputFile = typeof input === 'object' && typeof input.inputFile === 'string' ? input.inputFile : undefined;
    const roots = this.#options.fileRoots ?? (inputFile === undefined ? [] : [path.dirname(path.resolve(inputFile))]);
    return new ToolRegistry(tools, { roots, logger: this.#options.logger });
  }
}

function validateInput(input: unknown): asserts input is AgentInput {
  if (typeof input === 'string') return;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AgentError(`AutoAgent.run: input must be a string, { inputFile }, or an object; got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}.`);
  }
  const inputFile = (input as { inputFile?: unknown }).inputFile;
  if (inputFile !== undefined && (typeof inputFile !== 'string' || inputFile.trim() === '')) {
    throw new AgentError('AutoAgent.run: input.inputFile must be a non-empty file path.');
  }
}
