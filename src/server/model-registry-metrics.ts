/**
 * The registry's Prometheus metrics, registered on an AutoglmMetrics registry: update and rollback outcomes (the
 * alert on failed updates reads them), the active version per model, and how many versions each model holds in
 * memory (the memory cost of keeping a previous version warm).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AutoglmMetrics } from '../observability/metrics';
import type { VersionRef } from './model-version-slot';

export interface RegistryMetrics {
  updates: Counter<'model' | 'result'>;
  rollbacks: Counter<'model' | 'result'>;
  /** Creates a model's series at 0, so an alert's `increase()` sees its first failure. */
  touch(model: string): void;
}

interface SlotView {
  name: string;
  active: VersionRef;
  previous: VersionRef | undefined;
  draining: Set<unknown>;
}

/** prom-client refuses a second metric of one name on a registry: reuse the first (two registries on one metrics). */
function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function registerRegistryMetrics(metrics: AutoglmMetrics, slots: () => Iterable<SlotView>): RegistryMetrics {
  const registers = [metrics.registry];
  const outcomes = (name: string, help: string) =>
    existing<Counter<'model' | 'result'>>(metrics.registry, name) ?? new Counter({ name, help, labelNames: ['model', 'result'], registers });
  const updates = outcomes('autoglm_model_updates_total', 'Model updates (load, warm-up, switch), by model and result (success, failure).');
  const rollbacks = outcomes('autoglm_model_rollbacks_total', 'Model rollbacks to the previous version, by model and result (success, failure).');
  if (existing(metrics.registry, 'autoglm_model_active_info') === undefined) {
    new Gauge({
      name: 'autoglm_model_active_info',
      help: 'Always 1: the version each model serves (label version).',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const slot of slots()) this.set({ model: slot.name, version: slot.active.version }, 1);
      },
    });
  }
  if (existing(metrics.registry, 'autoglm_model_versions_loaded') === undefined) {
    new Gauge({
      name: 'autoglm_model_versions_loaded',
      help: 'Versions of each model held in memory: the active one, a warm previous one, and replaced ones still draining.',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const slot of slots()) {
          const previous = slot.previous?.loaded === undefined ? 0 : 1;
          this.set({ model: slot.name }, 1 + previous + slot.draining.size);
        }
      },
    });
  }
  return {
    updates,
    rollbacks,
    touch(model) {
      for (const result of ['success', 'failure']) {
        updates.inc({ model, result }, 0);
        rollbacks.inc({ model, result }, 0);
      }
    },
  };
}
