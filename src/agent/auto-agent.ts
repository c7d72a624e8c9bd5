/**
 * AutoAgent: give it a task, a model and tools; `run(input)` plans, calls tools, observes and answers, with every
 * step grammar-constrained to a valid tool call or answer. The loop itself is in agent-run.ts.
 */
import path from 'node:path';
import { AgentError } from '../errors';
import type { LanguageModel, ToolSpec } from '../models/language-model';
import type { FileAccess, Tool } from '../tools/tool';
import { ToolRegistry } from '../tools/tool-registry';
import type { AgentEvent, AgentInput, AgentResult, AgentRunOptions } from './agent-events';
import { systemMessage } from './agent-prompts';
import { AgentSession } from './agent-session';
import { runAgent } from './agent-run';
import { checkInputFile } from './check-input-file';
import { isAgentTools, type AgentTools } from './agent-tools';
import { checkAgentRunOptions, resolveAutoAgentOptions, type AutoAgentOptions, type ResolvedAutoAgentOptions } from './auto-agent-options';
import { ContextWindow } from './context-window';
import { loadGlmModel } from './default-modules';
import { checkPausedState, type AgentPausedState, type ToolApprovalDecision } from './tool-approval';

export class AutoAgent<Output = unknown> {
  #options: ResolvedAutoAgentOptions;
  #model: LanguageModel | undefined;
  #modelLoading: Promise<LanguageModel> | undefined;
  #ownsModel: boolean;
  #defaultTools: Promise<Tool[]> | undefined;
  #specs: ToolSpec[] | undefined;
  /** The window of the latest run (its session's, when it had one). */
  #window: ContextWindow;
  #running = false;
  #disposed = false;

  constructor(options: AutoAgentOptions<Output>) {
    this.#options = resolveAutoAgentOptions(options as AutoAgentOptions<unknown>);
    this.#ownsModel = typeof this.#options.model === 'string';
    if (!this.#ownsModel) this.#model = this.#options.model as LanguageModel;
    this.#window = this.#newWindow();
  }

  /** The task text shown to the model (a preset's text when `task` named a preset). */
  get task(): string {
    return this.#options.task;
  }

  /**
   * The context window of the latest run: its own, or its session's. A run without a session starts from an empty
   * window, so nothing of one caller's run reaches another's prompt.
   */
  get context(): ContextWindow {
    return this.#window;
  }

  /**
   * A new conversation: runs given `{ session }` see the exchanges (input and answer) of the session's earlier runs.
   * Keep one per user; never share one between callers that must not see each other's inputs.
   */
  session(): AgentSession {
    return new AgentSession(this, this.#newWindow());
  }

  /** Run the task on `input` and resolve to its result (the `final` event of `stream`). */
  async run(input: AgentInput, options: AgentRunOptions = {}): Promise<AgentResult<Output>> {
    for await (const event of this.stream(input, options)) {
      if (event.type === 'final') return event.result;
    }
    throw new AgentError('AutoAgent: the run ended without a final event; this is a bug in the agent loop.');
  }

  /** Run the task on `input`, yielding its events as they happen; the last one is `final`. */
  stream(input: AgentInput, options: AgentRunOptions = {}): AsyncGenerator<AgentEvent<Output>, void, undefined> {
    return this.#stream(input, options, undefined);
  }

  /**
   * Continue a run that ended with finishReason `approval-required`: `state` is its `result.state` (also after a
   * JSON round trip, in another process), `decisions` one `{ id, approved, reason? }` per pending call. Approved
   * calls run, denied ones do not and the model sees the denial and its reason as their observation; then the run
   * goes on (and may pause again). Unknown ids, a missing or a second decision: ToolApprovalError.
   */
  async resume(state: AgentPausedState, decisions: ToolApprovalDecision[], options: AgentRunOptions = {}): Promise<AgentResult<Output>> {
    for await (const event of this.resumeStream(state, decisions, options)) {
      if (event.type === 'final') return event.result;
    }
    throw new AgentError('AutoAgent: the run ended without a final event; this is a bug in the agent loop.');
  }

  /** `resume`, yielding the run's events as they happen; the last one is `final`. */
  resumeStream(state: AgentPausedState, decisions: ToolApprovalDecision[], options: AgentRunOptions = {}): AsyncGenerator<AgentEvent<Output>, void, undefined> {
    return this.#stream(undefined, options, { state: checkPausedState(state, this.#options.task), decisions });
  }

  async *#stream(
    given: AgentInput | undefined,
    options: AgentRunOptions,
    resume: { state: AgentPausedState; decisions: unknown } | undefined,
  ): AsyncGenerator<AgentEvent<Output>, void, undefined> {
    if (this.#disposed) throw new AgentError('AutoAgent: the agent was disposed; create a new one to run again.');
    checkAgentRunOptions(options);
    // A resumed run's input comes from its state (its input file roots the tools' sandbox again).
    let input: AgentInput = resume === undefined ? (given as AgentInput) : resume.state.input;
    validateInput(input);
    // The tools' sandbox resolves relative paths against its first root, not the caller's working directory: give
    // the model the absolute path.
    if (typeof input === 'object' && typeof input.inputFile === 'string') input = { ...input, inputFile: path.resolve(input.inputFile) };
    if (this.#running) {
      throw new AgentError('AutoAgent: a run is already in progress; an agent runs one input at a time (await it, or create another agent).');
    }
    const session = options.session;
    if (session !== undefined && !(session instanceof AgentSession && session.belongsTo(this))) {
      throw new AgentError('AutoAgent.run: options.session must be a session made by this agent (agent.session()).');
    }
    this.#running = true;
    try {
      this.#window = session?.context ?? this.#newWindow();
      const tools = await this.#resolveTools(input);
      if (resume === undefined) await checkInputFile(input, fileAccessOf(tools), this.#options.preset);
      const model = await this.#resolveModel();
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
        ...(resume === undefined ? {} : { resume }),
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

  #newWindow(): ContextWindow {
    return new ContextWindow({
      maxTurns: this.#options.maxTurns,
      maxTokens: Number.MAX_SAFE_INTEGER,
      countTokens: (messages) => this.#model!.countTokens(messages, this.#specs?.length ? { tools: this.#specs } : {}),
    });
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
   * access is rooted at `roots`, else at the input file's directory.
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
    const roots = this.#options.roots ?? (inputFile === undefined ? [] : [path.dirname(path.resolve(inputFile))]);
    return new ToolRegistry(tools, { roots, logger: this.#options.logger });
  }
}

/** The sandbox a registry's tools read through (ToolRegistry's `files`), when it has one. */
function fileAccessOf(tools: AgentTools | undefined): FileAccess | undefined {
  const files = (tools as { files?: Partial<FileAccess> } | undefined)?.files;
  return typeof files?.readFile === 'function' ? (files as FileAccess) : undefined;
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
