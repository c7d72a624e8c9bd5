/**
 * The messages between GlmModel's main-thread proxy (worker-graph.ts) and the worker thread that owns the ONNX
 * session and the KV cache (graph-worker.ts), and how typed errors cross between them.
 */
import * as errors from '../errors';
import { AutoglmError } from '../errors';
import type { CausalLmGraphOptions, GraphFeatures } from './causal-lm-graph';
import type { KvSnapshotInfo, LoadKvSnapshotOptions, SaveKvSnapshotOptions } from './kv-snapshot';
import type { ModelInfo } from './language-model';
import type { OnnxBackendOptions } from './onnx-backend';

/** What the worker needs to load the graph (everything structured-cloneable: no logger). */
export interface GraphWorkerData {
  onnxFile: string;
  info: ModelInfo;
  backend: Omit<OnnxBackendOptions, 'logger'>;
  graph: CausalLmGraphOptions;
  /** pino level of the main logger: the worker's log lines below it are not sent. */
  logLevel: string;
}

export type GraphWorkerRequest =
  | {
      type: 'forward';
      id: number;
      /** Which of the worker's KV caches (one per sequence slot) the ids run on. */
      slot: number;
      ids: number[];
      /** Positions of the worker's cache to keep before this forward (a truncation or clear made on the main side). */
      keep: number | undefined;
      allPositions: boolean;
      /** Logits rows to return: the last `rows` positions (a draft verification). Defaults to 1. */
      rows?: number;
    }
  | {
      /** One decode step of several slots in one run: ids[b] on slot slots[b], after keeps[b] as in 'forward'. */
      type: 'step';
      id: number;
      slots: number[];
      ids: number[];
      keeps: Array<number | undefined>;
    }
  /**
   * A slot's logits row in memory both threads see (sent once, before the slot's first forward; no reply): a result
   * of one row for that slot is written there instead of crossing in a message.
   */
  | { type: 'logits-buffer'; slot: number; buffer: SharedArrayBuffer }
  /** Writes the cache (after the pending truncation `keep`) to a snapshot file: the worker does the I/O. */
  | { type: 'save-state'; id: number; slot: number; file: string; keep: number | undefined; options: SaveKvSnapshotOptions }
  /** Replaces the cache with a snapshot file's sequence. */
  | { type: 'load-state'; id: number; slot: number; file: string; options: LoadKvSnapshotOptions }
  | { type: 'dispose'; id: number };

export type GraphWorkerReply =
  | { type: 'ready'; executionProvider: 'cpu' | 'cuda'; features: GraphFeatures; sharedBuffer: CausalLmGraphOptions['sharedBuffer'] }
  | { type: 'log'; line: string }
  /** A forward's rows when it returns several; without `logits` (one row per slot), each row is in its slot's logits buffer. */
  | { type: 'result'; id: number; logits?: Float32Array }
  | { type: 'disposed'; id: number }
  | { type: 'state-saved'; id: number; info: KvSnapshotInfo }
  | { type: 'state-loaded'; id: number; tokenIds: number[] }
  | { type: 'error'; id: number | undefined; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  code: string | undefined;
  details: Record<string, unknown>;
  stack: string | undefined;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const typed = AutoglmError.isInstance(error) ? error : undefined;
    return {
      name: error.name,
      message: error.message,
      code: typed?.code,
      details: typed ? cloneable(typed.details) : {},
      stack: error.stack,
    };
  }
  return { name: 'Error', message: String(error), code: undefined, details: {}, stack: undefined };
}

const errorClasses = new Map<string, typeof AutoglmError>();
for (const value of Object.values(errors)) {
  if (typeof value === 'function' && value.prototype instanceof AutoglmError) {
    const errorClass = value as typeof AutoglmError;
    errorClasses.set(errorClass.code, errorClass);
  }
}

/** The error as the main thread throws it: the same AutoglmError class (by code), message and details. */
export function deserializeError(serialized: SerializedError): Error {
  const errorClass = serialized.code === undefined ? undefined : errorClasses.get(serialized.code);
  const error = errorClass
    ? new errorClass(serialized.message, { details: serialized.details })
    : Object.assign(new Error(serialized.message), { name: serialized.name });
  // The worker's stack says where it failed; the main thread's own frames would only show the message handler.
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

/** Details survive postMessage as they are when they can; otherwise as their JSON form. */
function cloneable(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return structuredClone({ ...details });
  } catch {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  }
}
