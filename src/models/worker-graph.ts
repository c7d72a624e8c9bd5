/**
 * The main-thread side of GlmModel's `runIn: 'worker'`: a graph whose `forward` is one message to the worker
 * thread (graph-worker.ts) that owns the ONNX session and the KV cache, and a cache whose token ids are mirrored
 * here so that the generation loop reads its length and common prefix without asking the worker. A truncation or
 * clear made here travels with the next forward.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GenerationError, ModelLoadError } from '../errors';
import type { Logger } from '../observability/logger';
import { workerEntryFile } from '../worker-entry-file';
import { forwardRows, type CausalLmGraphOptions, type ForwardRowsOptions, type GraphFeatures } from './causal-lm-graph';
import {
  deserializeError,
  type GraphWorkerData,
  type GraphWorkerReply,
  type GraphWorkerRequest,
} from './graph-worker-protocol';
import { HeldTokenIds, type TokenPrefixCache } from './kv-cache';
import type { KvSnapshotInfo, LoadKvSnapshotOptions, SaveKvSnapshotOptions } from './kv-snapshot';
import type { ModelInfo } from './language-model';
import type { ExecutionProvider } from './onnx-backend';

export interface WorkerGraphOptions extends Omit<GraphWorkerData, 'logLevel'> {
  /** Receives the worker's log lines (load decisions such as a CUDA fallback). */
  logger: Logger;
}

/** The token ids the worker's KV cache holds, kept on the main thread. */
export class WorkerKvCache extends HeldTokenIds implements TokenPrefixCache {
  /** The worker's cache this one mirrors. */
  readonly slot: number;
  /**
   * The slot's logits row, in memory the worker writes: a forward returning one row returns this array (valid, and
   * the caller's to modify, until the slot's next forward).
   */
  readonly logits: Float32Array;
  /** Positions the worker must keep before its next forward (undefined: all it holds). */
  #keep: number | undefined;

  constructor(slot: number, vocabSize: number) {
    super();
    this.slot = slot;
    this.logits = new Float32Array(new SharedArrayBuffer(vocabSize * Float32Array.BYTES_PER_ELEMENT));
  }

  /** The worker's cache now holds exactly `ids` (a snapshot was loaded). */
  replace(ids: readonly number[]): void {
    this.heldIds = [...ids];
    this.#keep = undefined;
  }

  truncate(length: number): void {
    if (length >= this.heldIds.length) return;
    const kept = Math.max(0, length);
    this.heldIds.length = kept;
    this.#keep = Math.min(this.#keep ?? kept, kept);
  }

  clear(): void {
    this.heldIds = [];
    this.#keep = 0;
  }

  /** The pending truncation, handed to the next forward request. */
  takeKeep(): number | undefined {
    const keep = this.#keep;
    this.#keep = undefined;
    return keep;
  }

  /** Records the ids a forward appended in the worker. */
  append(ids: readonly number[]): void {
    for (const id of ids) this.heldIds.push(id);
  }
}

interface Pending {
  resolve(reply: GraphWorkerReply): void;
  reject(error: Error): void;
}

export class WorkerGraph {
  readonly info: ModelInfo;
  readonly executionProvider: ExecutionProvider;
  readonly features: GraphFeatures;
  readonly sharedBuffer: CausalLmGraphOptions['sharedBuffer'];
  /** Resolves with the worker thread's exit code once it has ended (after dispose, or a crash). */
  readonly exited: Promise<number>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #nextSlot = 0;
  /** Set once the worker is gone (disposed, crashed): later requests fail with it. */
  #gone: Error | undefined;

  private constructor(worker: Worker, info: ModelInfo, ready: Extract<GraphWorkerReply, { type: 'ready' }>) {
    this.#worker = worker;
    this.info = info;
    this.executionProvider = ready.executionProvider;
    this.features = ready.features;
    this.sharedBuffer = ready.sharedBuffer;
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (reply: GraphWorkerReply) => {
      if (reply.type === 'log' || reply.type === 'ready') return;
      const id = reply.id;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (!pending || id === undefined) return;
      this.#settled(id);
      if (reply.type === 'error') pending.reject(deserializeError(reply.error));
      else pending.resolve(reply);
    });
    const fail = (error: Error): void => {
      this.#gone ??= error;
      for (const [id, pending] of this.#pending) {
        this.#settled(id);
        pending.reject(error);
      }
    };
    worker.on('error', (error: Error) =>
      fail(new GenerationError(`The model worker thread failed: ${error.message}. Load the model again.`, { cause: error })),
    );
    worker.on('exit', (code) => fail(new GenerationError(`The model worker thread exited (code ${code}). Load the model again.`)));
    // Idle, the worker must not keep the process alive; a running request refs it.
    worker.unref();
  }

  /** Starts the worker and loads the graph in it. Load errors arrive as the worker threw them (ModelLoadError, ModelFormatError). */
  static async load(options: WorkerGraphOptions): Promise<WorkerGraph> {
    const { logger, ...data } = options;
    const worker = startWorker({ ...data, logLevel: logger.level });
    worker.on('message', (reply: GraphWorkerReply) => {
      if (reply.type === 'log') replayLog(logger, reply.line);
    });
    const ready = await new Promise<Extract<GraphWorkerReply, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (reply: GraphWorkerReply): void => {
        if (reply.type === 'ready') resolve(reply);
        else if (reply.type === 'error' && reply.id === undefined) reject(deserializeError(reply.error));
        else return;
        cleanup();
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(new ModelLoadError(`The model worker thread failed while loading ${data.onnxFile}: ${error.message}`, { cause: error, details: { file: data.onnxFile } }));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new ModelLoadError(`The model worker thread exited (code ${code}) while loading ${data.onnxFile}.`, { details: { file: data.onnxFile } }));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new WorkerGraph(worker, data.info, ready);
  }

  /** The mirror of a new KV cache in the worker (made there at its first forward), with its shared logits row. */
  createCache(): WorkerKvCache {
    const cache = new WorkerKvCache(this.#nextSlot++, this.info.vocabSize);
    if (!this.#gone) this.#worker.postMessage({ type: 'logits-buffer', slot: cache.slot, buffer: cache.logits.buffer as SharedArrayBuffer } satisfies GraphWorkerRequest);
    return cache;
  }

  /**
   * Runs `ids` after the cache's contents in the worker and returns the last position's logits (a fresh array
   * the caller owns), the last `rows` positions' with `rows`, or every position's with `allPositions`.
   */
  async forward(ids: readonly number[], cache: WorkerKvCache, options: ForwardRowsOptions = {}): Promise<Float32Array> {
    const rows = forwardRows(ids.length, options);
    const keep = cache.takeKeep();
    const reply = await this.#request({ type: 'forward', id: 0, slot: cache.slot, ids: [...ids], keep, allPositions: options.allPositions ?? false, rows });
    if (reply.type !== 'result') throw new GenerationError(`The model worker answered a forward with '${reply.type}'.`);
    cache.append(ids);
    return reply.logits ?? cache.logits;
  }

  /** One decode step of several caches in one run in the worker (CausalLmGraph.forwardBatch): each row's logits. */
  async forwardBatch(ids: readonly number[], caches: readonly WorkerKvCache[]): Promise<Float32Array[]> {
    const keeps = caches.map((cache) => cache.takeKeep());
    const reply = await this.#request({ type: 'step', id: 0, slots: caches.map((cache) => cache.slot), ids: [...ids], keeps });
    if (reply.type !== 'result') throw new GenerationError(`The model worker answered a step with '${reply.type}'.`);
    caches.forEach((cache, row) => cache.append([ids[row]!]));
    // The worker wrote each row into its slot's shared row.
    return caches.map((cache) => cache.logits);
  }

  /** The worker writes its cache (after the mirror's pending truncation) to a snapshot file. */
  async saveState(cache: WorkerKvCache, file: string, options: SaveKvSnapshotOptions): Promise<KvSnapshotInfo> {
    const reply = await this.#request({ type: 'save-state', id: 0, slot: cache.slot, file, keep: cache.takeKeep(), options });
    if (reply.type !== 'state-saved') throw new GenerationError(`The model worker answered a save-state with '${reply.type}'.`);
    return reply.info;
  }

  /**
   * The worker replaces its cache with a snapshot file's sequence; the mirror follows. A pending truncation stays
   * pending until then: it is moot once loaded, and still due when loading fails.
   */
  async loadState(cache: WorkerKvCache, file: string, options: LoadKvSnapshotOptions): Promise<number[]> {
    const reply = await this.#request({ type: 'load-state', id: 0, slot: cache.slot, file, options });
    if (reply.type !== 'state-loaded') throw new GenerationError(`The model worker answered a load-state with '${reply.type}'.`);
    cache.replace(reply.tokenIds);
    return reply.tokenIds;
  }

  /** Releases the session in the worker, then ends the worker thread. */
  async dispose(): Promise<void> {
    if (this.#gone) return;
    try {
      await this.#request({ type: 'dispose', id: 0 });
    } finally {
      this.#gone ??= new GenerationError('The model was disposed. Load it again.');
      await this.#worker.terminate();
    }
  }

  #request(request: GraphWorkerRequest): Promise<GraphWorkerReply> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = ++this.#nextId;
    return new Promise<GraphWorkerReply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
  }
}

/**
 * The built worker (graph-worker.js, a tsup entry beside this bundle) when there is one; otherwise, in a source
 * checkout, graph-worker.ts bundled once per process with esbuild (a dev dependency, tsx's own compiler) into
 * node_modules/.cache. A Worker's file is not transformed by vitest, nor by the parent's `--import tsx` on Node 20;
 * registering tsx inside each worker works too but costs about half a second per load, the bundle a tenth of that.
 */
function startWorker(workerData: GraphWorkerData): Worker {
  const file = workerEntryFile(moduleFile(), 'graph-worker', (message, cause) =>
    new ModelLoadError(`Cannot start the model worker: ${message}, or load with { runIn: 'main' }.`, { cause }),
  );
  const execArgv = withoutPreloads(process.execArgv);
  // Inherited flags are never refused; an explicit list is, for V8 and process-wide flags (--max-old-space-size,
  // --expose-gc, --abort-on-uncaught-exception: ERR_WORKER_INVALID_EXEC_ARGV). Pass one only to drop a preload.
  if (execArgv.length === process.execArgv.length) return new Worker(file, { workerData });
  try {
    return new Worker(file, { workerData, execArgv });
  } catch (error) {
    const refused = refusedFlags(error);
    if (refused === undefined) throw error;
    // Those flags are process-wide anyway (V8's apply to every isolate): the worker has them without asking.
    try {
      return new Worker(file, { workerData, execArgv: execArgv.filter((flag) => !refused.has(flag)) });
    } catch (retryError) {
      throw new ModelLoadError(
        `Cannot start the model worker thread with this process's Node flags (${execArgv.join(' ')}): ${(retryError as Error).message}. Load with { runIn: 'main' }.`,
        { cause: retryError, details: { execArgv } },
      );
    }
  }
}

/** The flags a Worker refused, from Node's ERR_WORKER_INVALID_EXEC_ARGV ("... invalid execArgv flags: a, b"). */
function refusedFlags(error: unknown): Set<string> | undefined {
  if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
  const list = /flags: (.*)$/.exec((error as Error).message)?.[1];
  return list === undefined ? undefined : new Set(list.split(', '));
}

/**
 * The parent's Node flags minus its module preloads and loaders (`--import tsx`, `--require ...`): the worker runs
 * plain JavaScript, and a loader registered again in each worker costs about 300 ms per load.
 */
function withoutPreloads(execArgv: readonly string[]): string[] {
  const preloads = ['--import', '--require', '-r', '--loader', '--experimental-loader'];
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (preloads.includes(flag)) i++;
    else if (!preloads.some((name) => flag.startsWith(`${name}=`))) kept.push(flag);
  }
  return kept;
}

function moduleFile(): string {
  // import.meta.url in ESM (and under vitest); the CommonJS build has no import.meta but has __filename.
  const metaUrl: string | undefined = import.meta.url;
  return metaUrl === undefined ? __filename : fileURLToPath(metaUrl);
}

/** Replays one of the worker's pino lines on the caller's logger, at its level. */
function replayLog(logger: Logger, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, ...fields } = entry;
  const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
  const method = label === undefined ? undefined : (logger as unknown as Record<string, unknown>)[label];
  if (typeof method === 'function') (method as (object: unknown, message?: string) => void).call(logger, fields, typeof msg === 'string' ? msg : undefined);
}
