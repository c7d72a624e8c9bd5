/**
 * ModelRegistry: named models with versions, hot update and rollback. A request leases the active version for its
 * whole duration (`acquire` ... `release`); `update` loads and warms the new version beside the serving one and then
 * switches in one synchronous assignment, so requests already running finish on the version they started on and
 * every later `acquire` gets the new one. The replaced version stays loaded for an instant `rollback`.
 */
import path from 'node:path';
import { AutoglmError, ModelRegistryError, ModelRollbackError, ModelUpdateError } from '../errors';
import { GlmModel } from '../models/glm-model';
import type { LanguageModel } from '../models/language-model';
import { silentLogger, type Logger } from '../observability/logger';
import type { AutoglmMetrics } from '../observability/metrics';
import type { ModelProvider, ProvidedModel } from './model-provider';
import { registerRegistryMetrics, type RegistryMetrics } from './model-registry-metrics';
import type { ModelLease, ModelRegistryEvent, ModelRegistryOptions, ModelStatus, ModelSwitch } from './model-registry-options';
import { ModelRegistryStore, type ModelHistoryEntry, type StoredModel } from './model-registry-store';
import { modelVersionId } from './model-version-id';
import { LoadedModel, VersionRef } from './model-version-slot';

interface Slot {
  name: string;
  active: VersionRef;
  previous: VersionRef | undefined;
  /** Loaded models replaced while requests still held them. */
  draining: Set<{ ref: VersionRef; loaded: LoadedModel }>;
  history: ModelHistoryEntry[];
  graceTimer: NodeJS.Timeout | undefined;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function defaultWarm(model: LanguageModel): Promise<void> {
  await model.generate('Hello', { maxNewTokens: 4, temperature: 0, prefixCache: false });
}

export class ModelRegistry implements ModelProvider {
  readonly #slots = new Map<string, Slot>();
  /** Updates and rollbacks of one model run one after another; different models do not wait for each other. */
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #listeners = new Set<(event: ModelRegistryEvent) => void>();
  readonly #store: ModelRegistryStore | undefined;
  readonly #logger: Logger;
  /** Every AutoglmMetrics this registry records into (one per server that serves it). */
  readonly #metrics: RegistryMetrics[] = [];
  readonly #graceMs: number;
  readonly #historyLimit: number;
  readonly #load: (directory: string) => Promise<LanguageModel>;
  readonly #warm: NonNullable<ModelRegistryOptions['warm']>;
  #disposed = false;
  readonly #metricsTargets = new Set<AutoglmMetrics>();

  constructor(options: ModelRegistryOptions = {}) {
    const graceMs = options.previousGraceMs ?? Number.POSITIVE_INFINITY;
    if (!(graceMs >= 0)) {
      throw new ModelRegistryError(`Expected \`previousGraceMs\` to be a number >= 0 (or Infinity), got ${String(options.previousGraceMs)}.`, {
        details: { field: 'previousGraceMs' },
      });
    }
    const historyLimit = options.historyLimit ?? 100;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) {
      throw new ModelRegistryError(`Expected \`historyLimit\` to be an integer >= 1, got ${String(options.historyLimit)}.`, { details: { field: 'historyLimit' } });
    }
    this.#graceMs = graceMs;
    this.#historyLimit = historyLimit;
    this.#store = options.dataDir === undefined ? undefined : new ModelRegistryStore(options.dataDir);
    this.#logger = options.logger ?? silentLogger();
    this.#load = options.loadModel ?? ((directory) => GlmModel.load(directory, options.loadOptions));
    this.#warm = options.warm ?? defaultWarm;
    if (options.metrics !== undefined) this.useMetrics(options.metrics);
  }

  /**
   * A registry with its models loaded: each model the data directory's history knows comes back on its active
   * version; `models` (name -> directory) adds the models the history does not know yet. A configured directory
   * does not override a persisted active version (an update or rollback outlives a restart); update it explicitly.
   */
  static async open(options: ModelRegistryOptions & { models?: Record<string, string> } = {}): Promise<ModelRegistry> {
    const { models = {}, ...registryOptions } = options;
    const registry = new ModelRegistry(registryOptions);
    try {
      const stored = registry.#store?.read().models ?? {};
      for (const [name, entry] of Object.entries(stored)) await registry.#restore(name, entry, models[name]);
      for (const [name, directory] of Object.entries(models)) {
        if (!registry.#slots.has(name)) await registry.update(name, directory);
      }
    } catch (error) {
      await registry.dispose();
      throw error;
    }
    return registry;
  }

  /** Records the registry's metrics into `metrics` too (each server serving this registry calls it with its own). */
  useMetrics(metrics: AutoglmMetrics): void {
    if (this.#metricsTargets.has(metrics)) return;
    this.#metricsTargets.add(metrics);
    const registered = registerRegistryMetrics(metrics, () => this.#slots.values());
    this.#metrics.push(registered);
    for (const name of this.#slots.keys()) registered.touch(name);
  }

  /** Names of the models, in the order they were added. */
  get names(): string[] {
    return [...this.#slots.keys()];
  }

  has(name: string): boolean {
    return this.#slots.has(name);
  }

  /** The active version of a model (throws for an unknown name). */
  activeVersion(name: string): string {
    return this.#slot(name).active.version;
  }

  /**
   * Leases the active version for one request. Synchronous, so no update can slip between choosing the version and
   * holding it. Release it when the request ends (`using lease = registry.acquire(name)` does).
   */
  acquire(name: string): ModelLease {
    if (this.#disposed) throw new ModelRegistryError('ModelRegistry.acquire: the registry was disposed.');
    const slot = this.#slot(name);
    const loaded = slot.active.loaded;
    if (loaded === undefined) throw new ModelRegistryError(`Model "${name}" has no loaded active version.`, { details: { name } });
    return loaded.lease(name, slot.active.version);
  }

  /**
   * ModelProvider (the server's seam): the active version of `name` as a model that leases that version for each
   * generate or stream call, so a request keeps the version it started on across an update.
   */
  get(name: string): ProvidedModel | undefined {
    const slot = this.#slots.get(name);
    const loaded = slot?.active.loaded;
    if (slot === undefined || loaded === undefined || this.#disposed) return undefined;
    return { model: loaded.serving(name, slot.active.version), version: slot.active.version };
  }

  /** ModelProvider: every model with its active version. */
  list(): { name: string; version: string }[] {
    return [...this.#slots.values()].map((slot) => ({ name: slot.name, version: slot.active.version }));
  }

  /** ModelProvider: every active version is loaded (and was warmed before it became active). */
  ready(): boolean {
    return !this.#disposed && [...this.#slots.values()].every((slot) => slot.active.loaded !== undefined);
  }

  /** Runs `work` on a lease of the active version and releases it after. */
  async use<T>(name: string, work: (lease: ModelLease) => Promise<T>): Promise<T> {
    const lease = this.acquire(name);
    try {
      return await work(lease);
    } finally {
      lease.release();
    }
  }

  /**
   * Loads and warms the version in `directory`, then makes it the active version of `name` (added if new). The
   * version it replaces stays loaded for `rollback` (see `previousGraceMs`). If the new version fails to load or
   * warm, the serving version is untouched and a ModelUpdateError says why.
   */
  async update(name: string, directory: string): Promise<ModelSwitch> {
    this.#checkName(name);
    return this.#exclusive(name, () => this.#update(name, path.resolve(directory)));
  }

  /** Makes the previous version active again (reloading it if it was unloaded); the current one becomes previous. */
  async rollback(name: string): Promise<ModelSwitch> {
    this.#slot(name);
    return this.#exclusive(name, () => this.#rollback(name));
  }

  status(): ModelStatus[] {
    return [...this.#slots.values()].map((slot) => ({
      name: slot.name,
      active: slot.active.status(),
      ...(slot.previous === undefined ? {} : { previous: slot.previous.status() }),
      draining: [...slot.draining].map(({ ref, loaded }) => ({ ...ref.status(loaded), loaded: true })),
      history: [...slot.history],
    }));
  }

  /** Calls `listener` for every load, update, rollback, failed update and unload; returns the unsubscribe function. */
  subscribe(listener: (event: ModelRegistryEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Disposes every loaded version (requests still running on them fail). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.allSettled([...this.#locks.values()]);
    const disposals: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      clearTimeout(slot.graceTimer);
      for (const ref of [slot.active, slot.previous]) {
        if (ref?.loaded !== undefined) disposals.push(ref.loaded.model.dispose());
      }
      for (const { loaded } of slot.draining) disposals.push(loaded.model.dispose());
    }
    await Promise.allSettled(disposals);
    this.#slots.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #update(name: string, directory: string): Promise<ModelSwitch> {
    const slot = this.#slots.get(name);
    let ref: VersionRef;
    let loadMs = 0;
    let warmMs = 0;
    try {
      const digest = await modelVersionId(directory);
      if (slot?.active.version === digest.version) {
        return { name, version: digest.version, previousVersion: slot.previous?.version, changed: false, loadMs: 0, warmMs: 0, at: Date.now() };
      }
      if (slot?.previous?.version === digest.version && slot.previous.loaded !== undefined) {
        ref = slot.previous;
      } else {
        ref = new VersionRef(digest.version, directory, Date.now(), digest.bytes);
        ref.loaded = await this.#loadAndWarm(name, ref);
        ({ loadMs, warmMs } = ref.loaded.figures);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#count('updates', { model: name, result: 'failure' });
      if (slot !== undefined) this.#record(slot, { action: 'update-failed', directory, at: Date.now(), error: message });
      this.#emit({ type: 'model-update-failed', name, directory, error: message, at: Date.now() });
      this.#logger.error({ model: name, directory, err: error }, 'model update failed; the serving version keeps serving');
      throw new ModelUpdateError(
        `Update of model "${name}" to ${directory} failed: ${message}${slot === undefined ? '' : ` Version ${slot.active.version} keeps serving.`}`,
        { cause: error, details: { name, directory, ...(slot === undefined ? {} : { activeVersion: slot.active.version }) } },
      );
    }
    const at = Date.now();
    ref.activatedAt = at;
    if (slot === undefined) {
      const created: Slot = { name, active: ref, previous: undefined, draining: new Set(), history: [], graceTimer: undefined };
      this.#slots.set(name, created);
      for (const registered of this.#metrics) registered.touch(name);
      this.#record(created, { action: 'load', version: ref.version, directory, at });
      this.#emit({ type: 'model-load', name, version: ref.version, at });
      return { name, version: ref.version, changed: true, loadMs, warmMs, at };
    }
    const replacedPrevious = slot.previous === ref ? undefined : slot.previous;
    // The switch: one assignment pair, no await in between.
    slot.previous = slot.active;
    slot.active = ref;
    if (replacedPrevious !== undefined) this.#unload(slot, replacedPrevious);
    this.#scheduleGrace(slot);
    this.#count('updates', { model: name, result: 'success' });
    this.#record(slot, { action: 'update', version: ref.version, directory, at });
    this.#emit({ type: 'model-update', name, version: ref.version, previousVersion: slot.previous.version, at });
    this.#logger.info({ model: name, version: ref.version, previousVersion: slot.previous.version, loadMs, warmMs }, 'model updated');
    return { name, version: ref.version, previousVersion: slot.previous.version, changed: true, loadMs, warmMs, at };
  }

  async #rollback(name: string): Promise<ModelSwitch> {
    const slot = this.#slot(name);
    const target = slot.previous;
    if (target === undefined) {
      this.#count('rollbacks', { model: name, result: 'failure' });
      throw new ModelRollbackError(`Model "${name}" has no previous version to roll back to (version ${slot.active.version} is its only one). Update it first.`, {
        details: { name, activeVersion: slot.active.version },
      });
    }
    let loadMs = 0;
    let warmMs = 0;
    if (target.loaded === undefined) {
      try {
        const digest = await modelVersionId(target.directory);
        if (digest.version !== target.version) {
          throw new ModelRollbackError(`its directory ${target.directory} now holds version ${digest.version}, not ${target.version}`);
        }
        target.loaded = await this.#loadAndWarm(name, target);
        ({ loadMs, warmMs } = target.loaded.figures);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#count('rollbacks', { model: name, result: 'failure' });
        this.#record(slot, { action: 'rollback-failed', version: target.version, directory: target.directory, at: Date.now(), error: message });
        throw new ModelRollbackError(`Rollback of model "${name}" to ${target.version} failed: ${message}. Version ${slot.active.version} keeps serving.`, {
          cause: error,
          details: { name, version: target.version, activeVersion: slot.active.version },
        });
      }
    }
    const at = Date.now();
    target.activatedAt = at;
    slot.previous = slot.active;
    slot.active = target;
    this.#scheduleGrace(slot);
    this.#count('rollbacks', { model: name, result: 'success' });
    this.#record(slot, { action: 'rollback', version: target.version, directory: target.directory, at });
    this.#emit({ type: 'model-rollback', name, version: target.version, previousVersion: slot.previous.version, at });
    this.#logger.info({ model: name, version: target.version, previousVersion: slot.previous.version, loadMs }, 'model rolled back');
    return { name, version: target.version, previousVersion: slot.previous.version, changed: true, loadMs, warmMs, at };
  }

  async #restore(name: string, stored: StoredModel, configuredDirectory: string | undefined): Promise<void> {
    this.#checkName(name);
    const { active, previous } = stored;
    if (configuredDirectory !== undefined && path.resolve(configuredDirectory) !== active.directory) {
      this.#logger.info({ model: name, version: active.version, configured: configuredDirectory }, 'restoring the persisted active version, not the configured directory');
    }
    const digest = await modelVersionId(active.directory).catch((cause: unknown) => {
      throw new ModelRegistryError(
        `Model "${name}"'s active version ${active.version} cannot be restored from ${active.directory}: ${(cause as Error).message} Restore the directory, or remove the model from ${this.#store?.file}.`,
        { cause, details: { name, version: active.version, directory: active.directory } },
      );
    });
    const ref = new VersionRef(digest.version, active.directory, active.activatedAt, digest.bytes);
    if (digest.version !== active.version) {
      this.#logger.warn({ model: name, recorded: active.version, found: digest.version }, 'the active version directory changed since it was recorded');
    }
    ref.loaded = await this.#loadAndWarm(name, ref);
    const slot: Slot = { name, active: ref, previous: undefined, draining: new Set(), history: stored.history.slice(-this.#historyLimit), graceTimer: undefined };
    // The previous version comes back unloaded: a rollback reloads it (and checks its directory still holds it).
    if (previous !== undefined) slot.previous = new VersionRef(previous.version, previous.directory, previous.activatedAt, 0);
    this.#slots.set(name, slot);
    for (const registered of this.#metrics) registered.touch(name);
    this.#record(slot, { action: 'load', version: ref.version, directory: ref.directory, at: Date.now() });
    this.#emit({ type: 'model-load', name, version: ref.version, at: Date.now() });
  }

  async #loadAndWarm(name: string, ref: VersionRef): Promise<LoadedModel> {
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const model = await this.#load(ref.directory);
    const loaded = performance.now();
    try {
      await this.#warm(model, { name, version: ref.version });
    } catch (error) {
      await model.dispose().catch(() => undefined);
      throw AutoglmError.isInstance(error) || !(error instanceof Error)
        ? error
        : new ModelUpdateError(`the warm-up generation failed: ${error.message}`, { cause: error });
    }
    const figures = {
      fileBytes: ref.fileBytes,
      loadMs: loaded - started,
      warmMs: performance.now() - loaded,
      rssDeltaBytes: Math.max(0, process.memoryUsage.rss() - rssBefore),
    };
    return new LoadedModel(model, figures, (error) => this.#logger.warn({ model: name, version: ref.version, err: error }, 'model dispose failed'));
  }

  /** Retires a version's loaded model: disposed when its last request ends. */
  #unload(slot: Slot, ref: VersionRef): void {
    const loaded = ref.loaded;
    if (loaded === undefined) return;
    ref.loaded = undefined;
    const entry = { ref, loaded };
    slot.draining.add(entry);
    void loaded.retire().then(() => {
      slot.draining.delete(entry);
      this.#emit({ type: 'model-unload', name: slot.name, version: ref.version, at: Date.now() });
      this.#logger.info({ model: slot.name, version: ref.version }, 'model version unloaded');
    });
  }

  #scheduleGrace(slot: Slot): void {
    clearTimeout(slot.graceTimer);
    slot.graceTimer = undefined;
    const previous = slot.previous;
    if (previous === undefined || !Number.isFinite(this.#graceMs)) return;
    slot.graceTimer = setTimeout(() => {
      if (slot.previous === previous) this.#unload(slot, previous);
    }, this.#graceMs);
    slot.graceTimer.unref();
  }

  #record(slot: Slot, entry: ModelHistoryEntry): void {
    slot.history.push(entry);
    if (slot.history.length > this.#historyLimit) slot.history.splice(0, slot.history.length - this.#historyLimit);
    this.#persist();
  }

  #persist(): void {
    if (this.#store === undefined) return;
    const models: Record<string, StoredModel> = {};
    for (const slot of this.#slots.values()) {
      const ref = (version: VersionRef) => ({ version: version.version, directory: version.directory, activatedAt: version.activatedAt });
      models[slot.name] = { active: ref(slot.active), ...(slot.previous === undefined ? {} : { previous: ref(slot.previous) }), history: slot.history };
    }
    this.#store.write({ format: 1, models });
  }

  #count(counter: 'updates' | 'rollbacks', labels: { model: string; result: 'success' | 'failure' }): void {
    for (const registered of this.#metrics) registered[counter].inc(labels);
  }

  #emit(event: ModelRegistryEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn({ err: error, event: event.type }, 'a model registry listener threw');
      }
    }
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (slot === undefined) {
      throw new ModelRegistryError(`Unknown model "${name}". Known models: ${this.names.map((known) => `"${known}"`).join(', ') || 'none'}.`, {
        details: { name, known: this.names },
      });
    }
    return slot;
  }

  #checkName(name: string): void {
    if (typeof name !== 'string' || !namePattern.test(name)) {
      throw new ModelRegistryError(`Invalid model name ${JSON.stringify(name)}: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`, {
        details: { name },
      });
    }
  }

  #exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.#disposed) return Promise.reject(new ModelRegistryError('ModelRegistry: the registry was disposed.'));
    const run = (this.#locks.get(name) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.#locks.set(name, run);
    return run;
  }
}
