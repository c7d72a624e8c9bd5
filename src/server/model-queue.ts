/**
 * A bounded queue per model name. The model runs one generation at a time (GlmModel serialises them); the server
 * admits at most `maxQueued` more waiting behind it and answers 429 with Retry-After past that, so a burst never
 * builds an unbounded backlog of sockets and prompts in memory.
 */
import { ServerBusyError } from '../errors';
import type { ServerMetrics } from './server-metrics';

export class ModelQueue {
  readonly #maxQueued: number;
  readonly #metrics: ServerMetrics;
  readonly #depth = new Map<string, number>();
  /** Recent request durations per model (ms), for the Retry-After estimate. */
  readonly #averageMs = new Map<string, number>();

  constructor(maxQueued: number, metrics: ServerMetrics) {
    this.#maxQueued = maxQueued;
    this.#metrics = metrics;
  }

  /** Admits a request for `model` or throws ServerBusyError; call the returned function when it ends. */
  admit(model: string): () => void {
    const depth = this.#depth.get(model) ?? 0;
    if (depth >= this.#maxQueued + 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil(((this.#averageMs.get(model) ?? 1000) * depth) / 1000));
      this.#metrics.rejected.inc({ model, reason: 'queue_full' });
      throw new ServerBusyError(`Model "${model}" has ${depth} requests running or queued (limit ${this.#maxQueued + 1}); retry after ${retryAfterSeconds} s.`, {
        details: { status: 429, type: 'rate_limit_error', param: null, retryAfterSeconds },
      });
    }
    this.#set(model, depth + 1);
    const started = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const elapsed = performance.now() - started;
      const previous = this.#averageMs.get(model);
      this.#averageMs.set(model, previous === undefined ? elapsed : previous * 0.8 + elapsed * 0.2);
      this.#set(model, (this.#depth.get(model) ?? 1) - 1);
    };
  }

  depth(model: string): number {
    return this.#depth.get(model) ?? 0;
  }

  #set(model: string, depth: number): void {
    this.#depth.set(model, depth);
    this.#metrics.queueDepth.set({ model }, depth);
  }
}
