/**
 * The seam between routes and models: a route asks for a model by the name in the request and gets the model and
 * its version. `StaticModelProvider` serves a fixed set; a model registry (hot update, rollback) implements the same
 * interface and replaces it through `createServer({ models })`.
 */
import type { LanguageModel } from '../models/language-model';

export interface ProvidedModel {
  model: LanguageModel;
  /** Reported in responses and run records (`system_fingerprint`, a run's `model.version`). */
  version: string;
}

export interface ModelProvider {
  /** The model to serve requests for `name`, or undefined when no model has that name. */
  get(name: string): ProvidedModel | undefined;
  /** Every served model name with its current version. */
  list(): { name: string; version: string }[];
  /** Whether every model is loaded and warm (`GET /readyz`). Defaults to true when absent. */
  ready?(): boolean;
}

export class StaticModelProvider implements ModelProvider {
  readonly #models: Map<string, ProvidedModel>;

  constructor(models: Record<string, ProvidedModel | LanguageModel>) {
    this.#models = new Map(
      Object.entries(models).map(([name, entry]) => [name, 'model' in entry && 'version' in entry ? entry : { model: entry as LanguageModel, version: '1' }]),
    );
  }

  get(name: string): ProvidedModel | undefined {
    return this.#models.get(name);
  }

  list(): { name: string; version: string }[] {
    return [...this.#models].map(([name, entry]) => ({ name, version: entry.version }));
  }
}
