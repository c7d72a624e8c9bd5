/**
 * `autoglm serve --watch FILE`: a models file (`{ "models": { "NAME": "DIR" } }`, JSON or YAML, directories relative
 * to the file) whose changes update the registry: each model whose directory now holds another version is updated
 * (loaded and warmed beside the serving one, as an admin update does); a model added to the file is loaded. Models
 * removed from the file keep serving (unloading live models is not a file edit's job); a failed update is logged
 * and the serving version stays.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ModelRegistryError } from '../errors';
import { silentLogger, type Logger } from '../observability/logger';
import type { ModelRegistry } from './model-registry';
import type { ModelSwitch } from './model-registry-options';

export interface ModelsFileWatcherOptions {
  /** Milliseconds to wait after the last change event before reading the file (editors write in bursts). Defaults to 200. */
  debounceMs?: number;
  /** Logs applied and failed updates. Defaults to a silent logger. */
  logger?: Logger;
}

const modelsFileSchema = z.strictObject({ models: z.record(z.string(), z.string().min(1)) });

/** Reads and validates a models file; directories are resolved against the file's folder. */
export async function readModelsFile(file: string): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new ModelRegistryError(`Cannot read the models file ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  const result = modelsFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ModelRegistryError(
      `The models file ${file} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}. Expected { "models": { "NAME": "DIR" } }.`,
      { details: { file, field: issue.path.join('.') } },
    );
  }
  const base = path.dirname(path.resolve(file));
  return Object.fromEntries(Object.entries(result.data.models).map(([name, directory]) => [name, path.resolve(base, directory)]));
}

export type ModelsFileOutcome = { name: string; ok: true; switch: ModelSwitch } | { name: string; ok: false; error: string };

export class ModelsFileWatcher {
  readonly file: string;
  readonly #registry: ModelRegistry;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #applying: Promise<ModelsFileOutcome[]> = Promise.resolve([]);
  readonly #listeners = new Set<(outcomes: ModelsFileOutcome[]) => void>();

  constructor(file: string, registry: ModelRegistry, options: ModelsFileWatcherOptions = {}) {
    this.file = path.resolve(file);
    this.#registry = registry;
    this.#logger = options.logger ?? silentLogger();
    this.#debounceMs = options.debounceMs ?? 200;
  }

  /** Watches the file's folder (editors and deploy tools replace files by rename, which a file watch misses). */
  start(): void {
    if (this.#watcher !== undefined) return;
    const name = path.basename(this.file);
    this.#watcher = watch(path.dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.apply().catch(() => undefined), this.#debounceMs);
    });
  }

  /** Called after each change has been applied, with what happened to each model. */
  onApplied(listener: (outcomes: ModelsFileOutcome[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the file and updates every model it names (one change at a time). */
  apply(): Promise<ModelsFileOutcome[]> {
    this.#applying = this.#applying.catch(() => []).then(() => this.#apply());
    return this.#applying;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #apply(): Promise<ModelsFileOutcome[]> {
    let models: Record<string, string>;
    try {
      models = await readModelsFile(this.file);
    } catch (error) {
      this.#logger.error({ err: error, file: this.file }, 'models file not applied');
      throw error;
    }
    const outcomes: ModelsFileOutcome[] = [];
    for (const [name, directory] of Object.entries(models)) {
      try {
        const result = await this.#registry.update(name, directory);
        if (result.changed) this.#logger.info({ model: name, version: result.version, file: this.file }, 'model updated from the models file');
        outcomes.push({ name, ok: true, switch: result });
      } catch (error) {
        outcomes.push({ name, ok: false, error: (error as Error).message });
      }
    }
    for (const name of this.#registry.names.filter((known) => !(known in models))) {
      this.#logger.warn({ model: name, file: this.file }, 'model missing from the models file keeps serving');
    }
    for (const listener of this.#listeners) listener(outcomes);
    return outcomes;
  }
}
