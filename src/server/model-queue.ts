/**
 * A bounded queue per model name. The model runs `sequences` generations at once (GlmModel batches them; 1 for a
 * model that does not say); the server admits at most `maxQueued` more waiting behind those and answers 429 with
 * Retry-After past that, so a burst never builds an unbounded backlog of sockets and prompts in memory.
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

  /** Requests `model` admits (running + waiting) when it runs `sequences` generations at once. */
  limit(sequences: number): number {
    return sequences + this.#maxQueued;
  }

  /**
   * Admits a request for `model` (which runs `sequences` generations at once) or throws ServerBusyError; call the
   * returned function when it ends.
   */
  admit(model: string, sequences = 1): () => void {
    const depth = this.#depth.get(model) ?? 0;
    const limit = this.limit(sequences);
    if (depth >= limit) {
      // The waiting ones drain `sequences` at a time.
      const retryAfterSeconds = Math.max(1, Math.ceil(((this.#averageMs.get(model) ?? 1000) * Math.ceil((depth - sequences + 1) / sequences)) / 1000));
      this.#metrics.rejected.inc({ model, reason: 'queue_full' });
      throw new ServerBusyError(`Model "${model}" has ${depth} requests running or queued (limit ${limit}); retry after ${retryAfterSeconds} s.`, {
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
