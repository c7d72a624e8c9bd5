/**
 * GlmModel: a GLM-family model directory (Optimum / transformers.js ONNX layout, or onnxruntime-genai's with a
 * GroupQueryAttention graph) run through ONNX Runtime, behind the LanguageModel interface.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GenerationError, KvSnapshotError, ModelFormatError, ModelLoadError } from '../errors';
import { silentLogger, type Logger } from '../observability/logger';
import { CausalLmGraph, type CausalLmGraphOptions, type GraphFeatures } from './causal-lm-graph';
import { SlotPool, type SlotChoice } from './batching/slot-pool';
import { StepBatcher, type BatchableGraph, type BatchStats } from './batching/step-batcher';
import { resolveSequenceSettings } from './batching/sequence-defaults';
import { resolveGenerateOptions } from './generation/resolve-generate-options';
import { checkChatMessages } from './check-chat-messages';
import { checkLoadOptions } from './check-load-options';
import { ABORTABLE_PREFILL_CHUNK_SIZE, abortedBeforeStart, runGeneration, type ForwardGraph } from './generation/run-generation';
import type { TokenConstraint } from './generation/token-constraint';
import { GeneratedTokenMemory } from './generated-token-memory';
import { recordedCallRewrite } from './chat-format/recorded-call-rewrite';
import type { ChatFormat } from './chat-format/chat-format';
import { GlmTokenizer, type TextTokenizer } from './glm-tokenizer';
import { commonPrefixLength, type KeyValueCache, type TokenPrefixCache } from './kv-cache';
import { checkSaveStateOptions, kvSnapshotModel, loadKvSnapshot, saveKvSnapshot, type KvSnapshotModel, type LoadKvSnapshotOptions, type SaveKvSnapshotOptions } from './kv-snapshot';
import {
  generateResultOf,
  type GenerateOptions,
  type GenerateResult,
  type GenerationEvent,
  type LanguageModel,
  type ModelInfo,
  type ModelInput,
  type ModelStateInfo,
  type SaveStateOptions,
  type ToolSpec,
} from './language-model';
import { resolveModelDirectory } from './model-cache';
import { parseModelConfig, type ModelConfig } from './model-config';
import { checkGenaiModelType } from './genai-config';
import { resolveModelFiles, type ModelDtype, type ModelFiles } from './model-files';
import { OnnxBackend, type ExecutionProvider, type GraphOptimizationLevel, type OnnxBackendOptions } from './onnx-backend';
import { graphNeedsPrepacking } from './prepacking';
import { WorkerGraph, type WorkerKvCache } from './worker-graph';

export interface GlmModelLoadOptions {
  /** Where the model runs. Defaults to 'cpu'. */
  executionProvider?: ExecutionProvider;
  /** 'cpu': when CUDA is asked for but not installed, run on CPU with a logged warning instead of failing. Defaults to no fallback. */
  fallback?: 'cpu';
  /** Intra-op threads of ONNX Runtime. Defaults to ONNX Runtime's choice (the physical cores). */
  threads?: number;
  /** ONNX Runtime graph optimisation level. Defaults to 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Weight format, selecting `onnx/model{suffix}.onnx` (not for the genai layout, which has one graph). Defaults to the first present of fp32, fp16, q8, q4f16, q4, int8, uint8, bnb4. */
  dtype?: ModelDtype;
  /** Logger for load decisions and per-generation figures. Defaults to a silent logger. */
  logger?: Logger;
  /**
   * ONNX Runtime's weight pre-packing (see OnnxBackendOptions.prepacking). Defaults to on only for graphs with
   * quantized kernels (a quantized dtype, or MatMulNBits / MatMulInteger / QLinear / DynamicQuantize ops in the
   * graph), which need it for speed; off for float weights, where it doubles the resident weight bytes (a 1 GB
   * fp32 model: 1.8 GB after load with it, 0.25 GB without, the weights then paged in from the mapped file) —
   * unless the model runs more than one sequence (`sequences` > 1): MLAS multiplies several rows (a batched step)
   * against unpacked float weights by packing them on every call, which made a step of 2 rows cost 3x a step of 1.
   */
  prepacking?: boolean;
  /**
   * Longest run of prompt tokens fed to the graph at once; longer prompts are prefilled in chunks, which bounds
   * the prefill's activation memory (the Optimum graph's attention scores grow with new x total tokens).
   * Defaults to 256. Pass the context length to prefill in one run. A request with a `signal` runs chunks of at
   * most ABORTABLE_PREFILL_CHUNK_SIZE (512): the signal is checked between chunks. dispose() waits for at most one
   * chunk of a request without one.
   */
  prefillChunkSize?: number;
  /**
   * Where the ONNX session and the KV cache run (not how many threads: that is `threads`). 'worker' (the default): a
   * worker thread of this model, so that a
   * prefill never blocks the calling thread's event loop and the per-step KV copies of onnxruntime-node are
   * collected in the worker's small heap instead of the caller's; only the last position's logits cross over.
   * 'main': the session runs on the calling thread (each `session.run` blocks it while it computes).
   */
  runIn?: 'worker' | 'main';
  /**
   * What chat history shows of the model's own earlier outputs: 'generated' (the default) the ids it generated, also
   * where the template renders a recorded call differently (GLM-4-0414's `{name} \n{args}`), so every step extends
   * the cached sequence; 'template' the template's rendering wherever the texts differ (see
   * generated-token-memory.ts and docs/agent-loop.md).
   */
  history?: 'generated' | 'template';
  /**
   * How many sequences run at once, each in a KV slot of its own: concurrent generate/stream calls share one graph
   * run per decode step (continuous batching); more wait for a free slot. A request takes the free slot whose
   * tokens share the longest prefix with its prompt, the least recently used one otherwise. Defaults, for graphs
   * with quantized kernels (or with `prepacking: true`), to how many full-context sequences fit in `maxKvBytes`,
   * from 1 to 8 (see batching/sequence-defaults.ts); for float weights to 1, because batching them needs
   * pre-packing, which doubles the resident weight bytes: pass `sequences` to batch a float model anyway.
   */
  sequences?: number;
  /**
   * Bound on the bytes of keys and values the slots keep between requests (past it, the least recently used idle
   * slots are cleared), and the budget the default `sequences` is derived from. Defaults to a quarter of the
   * machine's memory.
   */
  maxKvBytes?: number;
  /** Called as loading moves on: 'tokenizer', then 'graph' (the ONNX session, the long part), then 'ready'. */
  onProgress?: (event: { stage: 'tokenizer' | 'graph' | 'ready'; directory: string }) => void;
}

/** The graph and cache generations run on, in a worker thread or on the calling thread. */
interface GraphRunner {
  graph: BatchableGraph<TokenPrefixCache>;
  /** A new, empty KV cache (one per slot). */
  createCache(): TokenPrefixCache;
  executionProvider: ExecutionProvider;
  features: GraphFeatures;
  sharedBuffer: CausalLmGraphOptions['sharedBuffer'];
  prefillChunkSize: number;
  /** Writes a slot's cache to a snapshot file on the thread that owns it. */
  saveState(cache: TokenPrefixCache, file: string, options: SaveKvSnapshotOptions): Promise<ModelStateInfo>;
  /** Replaces a slot's cache with a snapshot file's sequence on the thread that owns it. */
  loadState(cache: TokenPrefixCache, file: string, options: LoadKvSnapshotOptions): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Default of GlmModelLoadOptions.prefillChunkSize. */
export const DEFAULT_PREFILL_CHUNK_SIZE = 256;

/** What a grammar-constrained generation asks for. */
export interface ConstraintRequest {
  schema?: GenerateOptions['schema'];
  tools?: ToolSpec[];
  /** 'none': only the answer branch of a tools grammar (`\n` then the answer); 'required': only its calls. Defaults to 'auto'. */
  toolChoice?: GenerateOptions['toolChoice'];
}

/** Makes a fresh TokenConstraint per generation (implemented over XGrammar in models/constraints). */
export interface ConstraintFactory {
  createConstraint(request: ConstraintRequest): Promise<TokenConstraint>;
}

export class GlmModel implements LanguageModel {
  readonly info: ModelInfo;
  readonly tokenizer: TextTokenizer;
  readonly files: ModelFiles;
  /** The provider the session runs on (after any fallback). */
  readonly executionProvider: ExecutionProvider;
  readonly #glmTokenizer: GlmTokenizer;
  readonly #config: ModelConfig;
  readonly #runner: GraphRunner;
  /** The runner's graph, recording the forward in flight for dispose(). */
  readonly #graph: ForwardGraph<TokenPrefixCache>;
  readonly #logger: Logger;
  /** Ids of recent generations, spliced back into chat prompts that show them (undefined: no `<|assistant|>` token). */
  readonly #generated: GeneratedTokenMemory | undefined;
  #constraintFactory: Promise<ConstraintFactory> | undefined;
  /** The default grammar compiler, when this model made it (released on dispose). */
  #ownedCompiler: { dispose(): void } | undefined;
  /** The KV slots: at most `sequences` generations at once; an aborted waiter leaves the line at once. */
  readonly #slots: SlotPool<TokenPrefixCache>;
  /** Gathers the decode steps of the running generations into one graph run. */
  readonly #batcher: StepBatcher<TokenPrefixCache>;
  /** How many sequences run at once (one KV slot each). */
  readonly sequences: number;
  /** One per generation started and not yet ended: dispose() aborts them all. */
  readonly #running = new Set<AbortController>();
  #disposed = false;
  /** This model's identity in its KV snapshots (computed on the first save or load). */
  #snapshotModel: KvSnapshotModel | undefined;

  private constructor(
    files: ModelFiles,
    config: ModelConfig,
    tokenizer: GlmTokenizer,
    runner: GraphRunner,
    logger: Logger,
    history: 'generated' | 'template',
    slots: { sequences: number; maxKvBytes: number; bytesPerToken: number },
  ) {
    this.files = files;
    this.#config = config;
    this.info = config.info;
    this.#glmTokenizer = tokenizer;
    this.tokenizer = { encode: (text) => tokenizer.encode(text), decode: (ids) => tokenizer.decode(ids) };
    this.#runner = runner;
    this.sequences = slots.sequences;
    this.#slots = new SlotPool(
      Array.from({ length: slots.sequences }, () => runner.createCache()),
      { bytesPerToken: slots.bytesPerToken, maxKvBytes: slots.maxKvBytes },
    );
    this.#batcher = new StepBatcher(runner.graph);
    this.#graph = this.#batcher;
    this.executionProvider = runner.executionProvider;
    this.#logger = logger;
    const assistantTokenId = tokenizer.hasChatTemplate ? tokenizer.tokenId('<|assistant|>') : undefined;
    this.#generated =
      assistantTokenId === undefined
        ? undefined
        : new GeneratedTokenMemory({
            decode: (ids) => tokenizer.decode(ids),
            assistantTokenId,
            specialTokenIds: tokenizer.addedTokenIds,
            stopTokenIds: config.info.eosTokenIds,
            history,
            recordedCallText: recordedCallRewrite(tokenizer.chatFormatFor(true)),
            contentPrefix: tokenizer.chatFormatFor(true).generationPrompt.replace(/^<\|assistant\|>/, ''),
          });
  }

  /** The chat format of this model's conversations with tools (undefined: no chat template). */
  get chatFormat(): ChatFormat | undefined {
    return this.#glmTokenizer.hasChatTemplate ? this.#glmTokenizer.chatFormatFor(true) : undefined;
  }

  /**
   * Loads a model directory: config.json, tokenizer, and the ONNX graph for the dtype. A hub id
   * (`onnx-community/glm-edge-1.5b-chat-ONNX`) loads the folder `autoglm pull` / pullModel() wrote (no network).
   */
  static async load(model: string, options: GlmModelLoadOptions = {}): Promise<GlmModel> {
    checkLoadOptions(options);
    const directory = resolveModelDirectory(model);
    const progress = options.onProgress ?? (() => {});
    const logger = options.logger ?? silentLogger();
    const prefillChunkSize = options.prefillChunkSize ?? DEFAULT_PREFILL_CHUNK_SIZE;
    if (!Number.isInteger(prefillChunkSize) || prefillChunkSize < 1) {
      throw new ModelLoadError(`GlmModel.load: prefillChunkSize must be a positive integer (tokens per prefill run), got ${prefillChunkSize}.`, {
        details: { field: 'prefillChunkSize', value: prefillChunkSize },
      });
    }
    const files = resolveModelFiles(directory, options.dtype === undefined ? {} : { dtype: options.dtype });
    const config = parseModelConfig(
      readJson(files.configFile),
      files.configFile,
      files.generationConfigFile === undefined ? undefined : readJson(files.generationConfigFile),
      files.generationConfigFile,
    );
    progress({ stage: 'tokenizer', directory: files.directory });
    const tokenizer = await GlmTokenizer.load(files.directory, { contextLength: config.info.contextLength });
    if (options.history !== undefined && options.history !== 'generated' && options.history !== 'template') {
      throw new ModelLoadError(`GlmModel.load: history must be 'generated' or 'template', got ${String(options.history)}.`, {
        details: { field: 'history', value: options.history },
      });
    }
    progress({ stage: 'graph', directory: files.directory });
    const runIn = options.runIn ?? 'worker';
    if (runIn !== 'worker' && runIn !== 'main') {
      throw new ModelLoadError(`GlmModel.load: runIn must be 'worker' or 'main', got ${String(runIn)}.`, { details: { field: 'runIn', value: runIn } });
    }
    // The slots are chosen before the graph loads (pre-packing depends on them): the KV type from the dtype.
    // Float weights batch well only pre-packed, which doubles their resident bytes: they run one sequence unless the
    // caller asks for more (or for pre-packing); quantized graphs pre-pack anyway and take the default from memory.
    const quantized = graphNeedsPrepacking(files);
    const defaultSequences = quantized || options.prepacking === true ? undefined : 1;
    const slots = resolveSequenceSettings(
      { sequences: options.sequences ?? defaultSequences, maxKvBytes: options.maxKvBytes },
      config.info,
      files.dtype === 'fp16' || files.dtype === 'q4f16' ? 'float16' : 'float32',
    );
    const prepacking = options.prepacking ?? (slots.sequences > 1 || quantized);
    const backendOptions: Omit<OnnxBackendOptions, 'logger'> = {
      executionProvider: options.executionProvider ?? 'cpu',
      ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: options.graphOptimizationLevel }),
      prepacking,
    };
    const runner =
      runIn === 'main'
        ? await loadOnThisThread({ files, config, backendOptions, prefillChunkSize, logger })
        : await loadInWorker({ files, config, backendOptions, prefillChunkSize, logger });
    logger.info(
      {
        directory: files.directory,
        onnxFile: files.onnxFile,
        layout: files.layout,
        dtype: files.dtype,
        executionProvider: runner.executionProvider,
        features: runner.features,
        sharedBuffer: runner.sharedBuffer,
        prepacking,
        prefillChunkSize,
        runIn,
        sequences: slots.sequences,
        maxKvBytes: slots.maxKvBytes,
      },
      'GLM model loaded',
    );
    progress({ stage: 'ready', directory: files.directory });
    return new GlmModel(files, config, tokenizer, runner, logger, options.history ?? 'generated', slots);
  }

  /**
   * Replaces where grammar constraints (`schema`, `tools`) come from. By default an XGrammar GrammarCompiler over
   * this model's tokenizer.json, built on the first constrained request.
   */
  setConstraintFactory(factory: ConstraintFactory | Promise<ConstraintFactory>): void {
    this.#constraintFactory = Promise.resolve(factory);
  }

  async generate(input: ModelInput, options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateResultOf(this.stream(input, options));
  }

  async *stream(input: ModelInput, options: GenerateOptions = {}): AsyncGenerator<GenerationEvent, void, undefined> {
    this.#assertOpen('stream');
    const startedAt = performance.now();
    const settings = resolveGenerateOptions(options, this.#config.generationDefaults);
    // Aborted by the caller's signal or by dispose(). A listener removed at the end, not AbortSignal.any: that one
    // stays linked to a long-lived caller signal (a server's shutdown signal) per request (nodejs/node#55351).
    const disposal = new AbortController();
    const forward = (): void => disposal.abort(settings.signal?.reason);
    if (settings.signal?.aborted) forward();
    else settings.signal?.addEventListener('abort', forward, { once: true });
    this.#running.add(disposal);
    const signal = disposal.signal;
    let lease: { cache: TokenPrefixCache; release(): void } | undefined;
    try {
      const promptIds = this.#promptIds(input, options.tools);
      lease = await this.#slots.acquire(promptIds, signal);
      // Aborted while waiting (by the caller or by dispose): end as an abort without touching the graph.
      if (lease === undefined || this.#disposed) {
        yield abortedBeforeStart(promptIds.length, startedAt);
        return;
      }
      const constraint = await this.#constraintFor(options);
      for await (const event of runGeneration({
        graph: this.#graph,
        cache: lease.cache,
        promptIds,
        settings: { ...settings, signal },
        // The caller can abort: the chunk, the unit an abort waits for, is at most ABORTABLE_PREFILL_CHUNK_SIZE.
        prefillChunkSize: settings.signal === undefined ? this.#runner.prefillChunkSize : Math.min(this.#runner.prefillChunkSize, ABORTABLE_PREFILL_CHUNK_SIZE),
        eosTokenIds: this.info.eosTokenIds,
        decode: (ids) => this.#glmTokenizer.decode(ids),
        encode: (text) => this.#glmTokenizer.encode(text),
        ...(constraint === undefined ? {} : { constraint }),
        startedAt,
      })) {
        if (event.type === 'end') {
          // Before the end is yielded: a consumer that stops at it (generate) never resumes this generator.
          this.#generated?.remember(event.tokenIds, promptIds);
          this.#logger.debug({ usage: event.usage, timings: event.timings, finishReason: event.finishReason }, 'generation finished');
        }
        yield event;
      }
    } finally {
      settings.signal?.removeEventListener('abort', forward);
      this.#running.delete(disposal);
      if (lease) {
        this.#batcher.leave(lease.cache);
        lease.release();
      }
    }
  }

  /** Counts of the decode steps run so far: how many, how many sequence-tokens they produced, the largest batch. */
  get batchStats(): Readonly<BatchStats> {
    return this.#batcher.stats;
  }

  tokenize(text: string): number[] {
    this.#assertOpen('tokenize');
    return this.#glmTokenizer.encode(text);
  }

  countTokens(input: ModelInput, options: { tools?: ToolSpec[] } = {}): number {
    this.#assertOpen('countTokens');
    return this.#promptIds(input, options.tools).length;
  }

  /**
   * The token ids `generate` would run for this input: chat messages rendered with the template and tools, with the
   * content of an assistant message that repeats one of this model's recent generations as the ids it generated
   * (the text is the same; see generated-token-memory.ts).
   */
  promptTokenIds(input: ModelInput, options: { tools?: ToolSpec[] } = {}): number[] {
    this.#assertOpen('promptTokenIds');
    return this.#promptIds(input, options.tools);
  }

  /**
   * Aborts every generation (running, queued, or held by a consumer that stopped reading: each ends with
   * finishReason 'abort' when next read), waits for the forward in flight (at most one prefill chunk or one
   * step), then releases the ONNX session. Later calls throw GenerationError.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const generation of this.#running) generation.abort();
    this.#batcher.close(new GenerationError(`GlmModel: the model of ${this.files.directory} was disposed. Load it again.`));
    await this.#batcher.idle;
    for (const cache of this.#slots.caches) cache.clear();
    this.#ownedCompiler?.dispose();
    await this.#runner.dispose();
  }

  /**
   * Writes a cached sequence (its token ids and the KV of every layer) to `file`, atomically, as node-llama-cpp's
   * `saveStateToFile`: one KV slot's, the free slot sharing the longest prefix with `tokenIds` (then only that
   * prefix), else the slot used last; waits for a free slot when all are generating. Throws KvSnapshotError when
   * nothing is cached or the file cannot be written.
   */
  async saveState(file: string, options: SaveStateOptions = {}): Promise<ModelStateInfo> {
    this.#assertOpen('saveState');
    checkSaveStateOptions(options);
    return this.#withSlot('saveState', options.tokenIds ?? 'most-recent', async (cache) => {
      const length = options.tokenIds === undefined ? cache.length : commonPrefixLength(cache.tokenIds, options.tokenIds);
      if (length === 0) {
        throw new KvSnapshotError(`GlmModel.saveState(${file}): the cache holds ${options.tokenIds === undefined ? 'nothing' : 'no prefix of the given tokenIds'}; generate first.`, {
          details: { file, reason: 'empty' },
        });
      }
      return this.#runner.saveState(cache, file, { model: this.#snapshotIdentity(), length, meta: { ...options.meta } });
    });
  }

  /**
   * Replaces a slot's sequence (the least recently used free slot's) with one `saveState` wrote (this model's,
   * checked by fingerprint and checksum), so that the next generation whose prompt extends its ids takes that slot
   * and prefills only the rest (`usage.cachedTokens` shows the reuse). Waits for a free slot when all are generating. Throws KvSnapshotError for another model's, a truncated, corrupt
   * or other-version file, leaving the cache as it was.
   */
  async loadState(file: string): Promise<ModelStateInfo> {
    this.#assertOpen('loadState');
    if (typeof file !== 'string' || file.length === 0) throw new KvSnapshotError('GlmModel.loadState: file must be a non-empty path.', { details: { reason: 'options' } });
    return this.#withSlot('loadState', [], async (cache) => {
      const tokenIds = await this.#runner.loadState(cache, file, { model: this.#snapshotIdentity(), vocabSize: this.info.vocabSize, contextLength: this.info.contextLength });
      return { file, tokens: tokenIds.length, bytes: statSync(file).size };
    });
  }

  /** Runs `work` on a slot held meanwhile, in the batcher's queue (between steps: no batch holds the slot's KV then). */
  async #withSlot<T>(operation: string, choice: SlotChoice, work: (cache: TokenPrefixCache) => Promise<T>): Promise<T> {
    const lease = await this.#slots.acquire(choice);
    try {
      this.#assertOpen(operation);
      return await this.#batcher.exclusive(() => work(lease!.cache));
    } finally {
      lease?.release();
    }
  }

  #snapshotIdentity(): KvSnapshotModel {
    const { layers, kvHeads, headDim } = this.info;
    return (this.#snapshotModel ??= kvSnapshotModel(this.files, { layers, kvHeads, headDim, type: this.#runner.features.kvType }));
  }


  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #promptIds(input: ModelInput, tools: ToolSpec[] | undefined): number[] {
    if (typeof input === 'string') return this.#glmTokenizer.encodePrompt(input);
    if (!Array.isArray(input)) throw new GenerationError('Input must be a string, an array of chat messages, or an array of token ids.');
    if (input.length === 0) throw new GenerationError('The input is empty: give a prompt, messages or token ids.');
    if (input.every((item) => typeof item === 'number')) {
      const ids = input as number[];
      ids.forEach((id, index) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.info.vocabSize) {
          throw new GenerationError(`Token id at index ${index} is ${id}, outside the vocabulary [0, ${this.info.vocabSize}).`, {
            details: { index, tokenId: id },
          });
        }
      });
      return [...ids];
    }
    if (input.every((item) => typeof item === 'object' && item !== null)) {
      checkChatMessages(input);
      const canonical = this.#glmTokenizer.encodeChat(input as Exclude<ModelInput, string | number[]>, tools);
      return this.#generated === undefined ? canonical : [...this.#generated.splice(canonical)];
    }
    throw new GenerationError('Input array must hold only token ids (numbers) or only chat messages ({ role, content }).');
  }

  async #constraintFor(options: GenerateOptions): Promise<TokenConstraint | undefined> {
    const wanted = options.schema !== undefined || (options.tools !== undefined && options.tools.length > 0);
    if (!wanted || options.constrained === false) return undefined;
    this.#constraintFactory ??= this.#createGrammarCompiler().catch((error: unknown) => {
      this.#constraintFactory = undefined;
      throw error;
    });
    const factory = await this.#constraintFactory;
    return factory.createConstraint({
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(options.tools === undefined ? {} : { tools: options.tools }),
      ...(options.toolChoice === undefined ? {} : { toolChoice: options.toolChoice }),
      ...(this.chatFormat === undefined ? {} : { format: this.chatFormat }),
    });
  }

  /** XGrammar (WebAssembly) is loaded only when a model first needs a grammar. */
  async #createGrammarCompiler(): Promise<ConstraintFactory> {
    const { GrammarCompiler } = await import('./constraints/grammar-compiler');
    const compiler = await GrammarCompiler.fromTokenizerJson(this.#glmTokenizer.tokenizerJson, {
      vocabSize: this.info.vocabSize,
      stopTokenIds: [...this.info.eosTokenIds],
    });
    this.#ownedCompiler = compiler;
    return compiler;
  }

  #assertOpen(operation: string): void {
    if (this.#disposed) {
      throw new GenerationError(`GlmModel.${operation}: the model of ${this.files.directory} was disposed. Load it again.`);
    }
  }
}

/** What loading a graph needs, on either thread. */
interface GraphLoadRequest {
  files: ModelFiles;
  config: ModelConfig;
  backendOptions: Omit<OnnxBackendOptions, 'logger'>;
  prefillChunkSize: number;
  logger: Logger;
}

async function loadOnThisThread({ files, config, backendOptions, prefillChunkSize, logger }: GraphLoadRequest): Promise<GraphRunner> {
  const backend = await OnnxBackend.load(files.onnxFile, { ...backendOptions, logger });
  try {
    const graph = new CausalLmGraph(backend, config.info, { ...graphOptions(files, config), prefillChunkSize });
    return {
      graph,
      createCache: () => graph.createCache(),
      executionProvider: backend.executionProvider,
      features: graph.features,
      sharedBuffer: graph.sharedBuffer,
      prefillChunkSize,
      saveState: async (cache, file, options) => saveKvSnapshot(cache as KeyValueCache, file, options),
      loadState: async (cache, file, options) => {
        loadKvSnapshot(cache as KeyValueCache, file, options);
        return [...cache.tokenIds];
      },
      dispose: () => backend.dispose(),
    };
  } catch (error) {
    await backend.dispose();
    throw error;
  }
}

async function loadInWorker({ files, config, backendOptions, prefillChunkSize, logger }: GraphLoadRequest): Promise<GraphRunner> {
  const graphSettings = { ...graphOptions(files, config), prefillChunkSize };
  const graph = await WorkerGraph.load({ onnxFile: files.onnxFile, info: config.info, backend: backendOptions, graph: graphSettings, logger });
  return {
    graph: graph as BatchableGraph<TokenPrefixCache>,
    createCache: () => graph.createCache(),
    executionProvider: graph.executionProvider,
    features: graph.features,
    sharedBuffer: graph.sharedBuffer,
    prefillChunkSize,
    saveState: (cache, file, options) => graph.saveState(cache as WorkerKvCache, file, options),
    loadState: (cache, file, options) => graph.loadState(cache as WorkerKvCache, file, options),
    dispose: () => graph.dispose(),
  };
}

/** The genai layout's I/O names and shared buffer, after checking genai_config.json agrees with config.json. */
function graphOptions(files: ModelFiles, config: ModelConfig): CausalLmGraphOptions {
  const genai = files.genai;
  if (!genai) return {};
  const file = join(files.directory, 'genai_config.json');
  const { info } = config;
  checkGenaiModelType(genai, info.family, file, files.configFile);
  for (const [field, genaiValue, configValue] of [
    ['num_hidden_layers', genai.layers, info.layers],
    ['num_key_value_heads', genai.kvHeads, info.kvHeads],
    ['head_size', genai.headDim, info.headDim],
  ] as const) {
    if (genaiValue !== configValue) {
      throw new ModelFormatError(
        `${file}: model.decoder.${field} is ${genaiValue} but ${files.configFile} gives ${configValue}. The two files describe different models; re-export them together.`,
        { details: { file, field: `model.decoder.${field}` } },
      );
    }
  }
  return {
    names: genai.names,
    ...(genai.pastPresentShareBuffer ? { sharedBuffer: { maxLength: Math.min(genai.contextLength, info.contextLength) } } : {}),
  };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModelFormatError(`Cannot read ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error, details: { file } });
  }
}
