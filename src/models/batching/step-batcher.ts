/**
 * Continuous batching below the per-sequence generation loop. Each generation keeps calling `forward(ids, cache)`
 * as it would alone (its grammar, sampler, stop strings, abort and deadline stay its own); the batcher gathers the
 * single-token calls of the sequences stepping together and runs them as ONE graph run (`forwardBatch`), then
 * resolves each caller with its own row of logits. Sequences join by calling and leave by not calling (`leave` when
 * their generation ends). Multi-token forwards (prefill chunks, jump-forward or draft-verify runs) run alone, between
 * steps, in arrival order: every run goes through one queue, so the graph and its caches see one run at a time.
 *
 * When a step runs: once every sequence that took part in the last step (and has not left) asked for its next
 * token. A sequence that does not ask within `graceMs` after the others (a stream whose consumer stopped reading)
 * stops holding the step back until it asks again.
 */
import { GenerationError } from '../../errors';
import type { ForwardGraph } from '../generation/run-generation';
import type { TokenPrefixCache } from '../kv-cache';
import type { ModelInfo } from '../language-model';
import type { ForwardRowsOptions } from '../causal-lm-graph';

/** A graph that runs one sequence's tokens, or one token each for several sequences. */
export interface BatchableGraph<Cache extends TokenPrefixCache> {
  readonly info: ModelInfo;
  forward(ids: readonly number[], cache: Cache, options?: ForwardRowsOptions): Promise<Float32Array>;
  /** Each row's logits, row b for caches[b]: the caller may modify them until that cache's next forward. */
  forwardBatch(ids: readonly number[], caches: readonly Cache[]): Promise<readonly Float32Array[]>;
}

export interface StepBatcherOptions {
  /**
   * How long a step waits for a sequence of the previous step that has not asked for its next token yet, once the
   * others have. Defaults to 5 ms (a normal caller asks within the same event-loop turn as the others).
   */
  graceMs?: number;
}

/** Counts of the batched steps run so far. */
export interface BatchStats {
  /** Single-token steps run (batched or not). */
  steps: number;
  /** Sequence-tokens those steps produced (rows summed over steps). */
  rows: number;
  /** The most rows one step ran. */
  largestBatch: number;
}

interface Waiting {
  id: number;
  resolve(logits: Float32Array): void;
  reject(error: unknown): void;
}

export class StepBatcher<Cache extends TokenPrefixCache> implements ForwardGraph<Cache> {
  readonly info: ModelInfo;
  readonly #graph: BatchableGraph<Cache>;
  readonly #graceMs: number;
  /** The end of the run queue. */
  #tail: Promise<unknown> = Promise.resolve();
  /** The run going on now (dispose waits for it, not for the queue behind it). */
  #current: Promise<unknown> = Promise.resolve();
  /** Sequences that asked for a step, with their token. */
  readonly #waiting = new Map<Cache, Waiting>();
  /** Sequences in the step running now. */
  readonly #inStep = new Set<Cache>();
  /** Sequences that got their logits and are expected to ask again. */
  readonly #expected = new Set<Cache>();
  #stepQueued = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed: Error | undefined;
  /** A stable rank per cache: a step's rows go in this order, so that a steady batch keeps its packed KV. */
  readonly #ranks = new WeakMap<Cache, number>();
  #nextRank = 0;
  readonly #stats: BatchStats = { steps: 0, rows: 0, largestBatch: 0 };

  constructor(graph: BatchableGraph<Cache>, options: StepBatcherOptions = {}) {
    const graceMs = options.graceMs ?? 5;
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new GenerationError(`StepBatcher: graceMs must be a finite number >= 0, got ${graceMs}.`);
    this.#graph = graph;
    this.#graceMs = graceMs;
    this.info = graph.info;
  }

  get stats(): Readonly<BatchStats> {
    return { ...this.#stats };
  }

  /** Settles when the run in flight (if any) has ended. */
  get idle(): Promise<unknown> {
    return this.#current;
  }

  forward(ids: readonly number[], cache: Cache, options: ForwardRowsOptions = {}): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#expected.delete(cache);
    if (this.#waiting.has(cache) || this.#inStep.has(cache)) {
      return Promise.reject(new GenerationError('StepBatcher: a sequence asked for a forward while its previous one is still running.'));
    }
    // One token, one row of logits: a decode step, batched. Anything else (prefill chunks, jump-forward runs, draft
    // verification with its k + 1 rows) runs alone.
    if (ids.length === 1 && !options.allPositions && (options.rows ?? 1) === 1) {
      const stepped = new Promise<Float32Array>((resolve, reject) => this.#waiting.set(cache, { id: ids[0]!, resolve, reject }));
      this.#check();
      return stepped;
    }
    const alone = this.#enqueue(() => this.#graph.forward(ids, cache, options));
    this.#check();
    return alone.then((logits) => {
      this.#expected.add(cache);
      return logits;
    });
  }

  /** The sequence of `cache` ended: the next steps stop waiting for it. */
  leave(cache: Cache): void {
    this.#expected.delete(cache);
    this.#check();
  }

  /** Refuses every later forward with `error` and rejects the steps not started; the run in flight ends as it is. */
  close(error: Error): void {
    this.#closed ??= error;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiting of this.#waiting.values()) waiting.reject(this.#closed);
    this.#waiting.clear();
  }

  #check(): void {
    if (this.#waiting.size === 0 || this.#stepQueued || this.#inStep.size > 0) return;
    if (this.#expected.size === 0) {
      this.#queueStep();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#expected.clear();
      this.#check();
    }, this.#graceMs);
  }

  #queueStep(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stepQueued = true;
    this.#enqueue(async () => {
      this.#stepQueued = false;
      const entries = [...this.#waiting].sort(([a], [b]) => this.#rank(a) - this.#rank(b));
      this.#waiting.clear();
      if (entries.length === 0) return;
      const caches = entries.map(([cache]) => cache);
      for (const cache of caches) this.#inStep.add(cache);
      try {
        const logits = await this.#graph.forwardBatch(
          entries.map(([, waiting]) => waiting.id),
          caches,
        );
        this.#stats.steps++;
        this.#stats.rows += entries.length;
        this.#stats.largestBatch = Math.max(this.#stats.largestBatch, entries.length);
        entries.forEach(([cache, waiting], row) => {
          this.#expected.add(cache);
          waiting.resolve(logits[row]!);
        });
      } catch (error) {
        for (const [, waiting] of entries) waiting.reject(error);
      } finally {
        this.#inStep.clear();
        this.#check();
      }
    }).catch(() => undefined);
  }

  /** Runs `job` (a snapshot's save or load) in the run queue: between steps, never beside a run. */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return this.#enqueue(job);
  }

  #rank(cache: Cache): number {
    let rank = this.#ranks.get(cache);
    if (rank === undefined) this.#ranks.set(cache, (rank = this.#nextRank++));
    return rank;
  }

  /** Runs `job` after every run queued before it; refused once closed. */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => {
      if (this.#closed) throw this.#closed;
      const running = job();
      this.#current = running.catch(() => undefined);
      return running;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
