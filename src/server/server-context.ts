/**
 * What every route plugin of the server shares: the model provider, the per-model queue, metrics, options.
 */
import type { LanguageModel } from '../models/language-model';
import { instrumentModel } from '../observability/instrument-model';
import type { Logger } from '../observability/logger';
import type { AutoglmMetrics } from '../observability/metrics';
import type { ModelProvider } from './model-provider';
import type { ModelQueue } from './model-queue';
import type { RunManager } from './runs/run-manager';
import type { ServerMetrics } from './server-metrics';
import type { ResolvedServerOptions } from './server-options';

export class ServerContext {
  readonly models: ModelProvider;
  readonly queue: ModelQueue;
  readonly metrics: AutoglmMetrics;
  readonly serverMetrics: ServerMetrics;
  readonly options: ResolvedServerOptions;
  readonly logger: Logger;
  /** The runs API's manager, once its routes are registered (undefined when runs are off). */
  runs: RunManager | undefined;
  /** Aborted when the server shuts down past its grace period: in-flight generations stop. */
  readonly shutdown = new AbortController();
  readonly #instrumented = new WeakMap<LanguageModel, LanguageModel>();

  constructor(parts: { models: ModelProvider; queue: ModelQueue; metrics: AutoglmMetrics; serverMetrics: ServerMetrics; options: ResolvedServerOptions; logger: Logger }) {
    this.models = parts.models;
    this.queue = parts.queue;
    this.metrics = parts.metrics;
    this.serverMetrics = parts.serverMetrics;
    this.options = parts.options;
    this.logger = parts.logger;
  }

  /** The model wrapped so its generations land in the metrics (one wrapper per model object). */
  instrumented(model: LanguageModel): LanguageModel {
    let wrapped = this.#instrumented.get(model);
    if (wrapped === undefined) {
      wrapped = instrumentModel(model, { metrics: this.metrics });
      this.#instrumented.set(model, wrapped);
    }
    return wrapped;
  }
}
