import type { GlmModelLoadOptions } from '../models/glm-model';
import type { LanguageModel } from '../models/language-model';
import type { Logger } from '../observability/logger';
import type { AutoglmMetrics } from '../observability/metrics';
import type { ModelHistoryEntry } from './model-registry-store';

/** Options of {@link ModelRegistry}. */
export interface ModelRegistryOptions {
  /**
   * Where the registry keeps its history (`model-registry.json`), so that a restarted process comes back on the
   * version that was active. Defaults to none: nothing is persisted.
   */
  dataDir?: string;
  /** Options of `GlmModel.load` for every version. Defaults to GlmModel's defaults. Ignored with `loadModel`. */
  loadOptions?: GlmModelLoadOptions;
  /** Loads a version's directory. Defaults to `GlmModel.load(directory, loadOptions)`. */
  loadModel?: (directory: string) => Promise<LanguageModel>;
  /**
   * Proves a freshly loaded version works before it takes traffic; throw to refuse it. Defaults to one short
   * generation (4 tokens, greedy), which also lets ONNX Runtime allocate its buffers before the first request.
   */
  warm?: (model: LanguageModel, context: { name: string; version: string }) => Promise<void>;
  /**
   * Milliseconds a replaced version stays loaded for an instant rollback; after that it is unloaded (once its
   * in-flight requests finish) and a rollback loads it again from its directory. Two loaded versions cost about twice
   * a model's memory; `0` unloads the previous version as soon as it drains. Defaults to `Infinity`: keep it loaded.
   */
  previousGraceMs?: number;
  /** Entries kept in each model's history. Defaults to 100. */
  historyLimit?: number;
  /** Logs updates, rollbacks and unloads. Defaults to a silent logger. */
  logger?: Logger;
  /**
   * Registers `autoglm_model_updates_total`, `autoglm_model_rollbacks_total`, `autoglm_model_active_info` and
   * `autoglm_model_versions_loaded` on these metrics. Defaults to none.
   */
  metrics?: AutoglmMetrics;
}

/** One version of a model as {@link ModelRegistry.status} reports it. */
export interface ModelVersionStatus {
  /** `v-` and 12 hex digits of the directory's SHA-256. */
  version: string;
  directory: string;
  /** Epoch ms when it last became active. */
  activatedAt: number;
  /** False for a previous version unloaded after its grace period (or not yet reloaded after a restart). */
  loaded: boolean;
  /** Requests holding a lease on it right now. */
  inFlight: number;
  /** Bytes of the directory's files (weights, tokenizer, config). */
  fileBytes: number;
  /** Growth of the process's resident memory across this version's load and warm-up (approximate). */
  rssDeltaBytes?: number;
  loadMs?: number;
  warmMs?: number;
}

export interface ModelStatus {
  name: string;
  active: ModelVersionStatus;
  /** The version a rollback returns to. */
  previous?: ModelVersionStatus;
  /** Replaced versions still finishing requests that started on them; unloaded when they drain. */
  draining: ModelVersionStatus[];
  /** Newest last. */
  history: ModelHistoryEntry[];
}

/** What an update or a rollback did. */
export interface ModelSwitch {
  name: string;
  /** The version now serving. */
  version: string;
  /** The version a rollback would now return to. */
  previousVersion?: string;
  /** False when the version asked for was already active (nothing changed). */
  changed: boolean;
  /** Load and warm-up time; 0 when the version was already loaded. */
  loadMs: number;
  warmMs: number;
  /** Epoch ms of the switch. */
  at: number;
}

/** A model version held for one request: it stays loaded until `release`. */
export interface ModelLease {
  readonly name: string;
  readonly version: string;
  readonly model: LanguageModel;
  /** Ends the lease; idempotent. */
  release(): void;
  [Symbol.dispose](): void;
}

export type ModelRegistryEvent =
  | { type: 'model-load'; name: string; version: string; at: number }
  | { type: 'model-update'; name: string; version: string; previousVersion?: string; at: number }
  | { type: 'model-rollback'; name: string; version: string; previousVersion?: string; at: number }
  | { type: 'model-update-failed'; name: string; directory: string; error: string; at: number }
  | { type: 'model-unload'; name: string; version: string; at: number };
