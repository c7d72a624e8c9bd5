/**
 * The KV slots of one model: how many sequences run at once, and which slot a new request takes. A request waits
 * for a free slot (first come, first served; a waiter whose AbortSignal fires leaves the line at once), then takes
 * the free slot whose cached tokens share the longest prefix with its prompt (an agent's next step, a service's
 * common system prompt and tools), the least recently used one otherwise. A share shorter than
 * MIN_USEFUL_PREFIX tokens (and than the prompt less one token) counts as none: every GLM prompt starts with the same
 * few tokens (`[gMASK]<sop><|user|>`), which must not make a request overwrite another conversation's slot rather
 * than take an empty one. The tokens held by idle slots are bounded
 * in bytes: past the bound, the least recently used idle slots are cleared.
 */
import { GenerationError } from '../../errors';
import type { TokenPrefixCache } from '../kv-cache';

/** Shortest shared prefix that makes a slot preferred over the least recently used one (see the file comment). */
export const MIN_USEFUL_PREFIX = 16;

export interface SlotPoolOptions {
  /** Bytes of keys and values one cached token takes (layers x 2 x kvHeads x headDim x element size). */
  bytesPerToken: number;
  /** Bound on the bytes of tokens all slots hold once their requests ended. Defaults to no bound. */
  maxKvBytes?: number;
}

/** A slot held by one request until `release`. */
export interface SlotLease<Cache> {
  readonly cache: Cache;
  /** Index of the slot (0 .. size - 1). */
  readonly slot: number;
  release(): void;
}

interface Slot<Cache> {
  readonly cache: Cache;
  readonly index: number;
  busy: boolean;
  lastUsed: number;
}

/**
 * Which slot a request takes: the best free one for its prompt's ids (see the file comment), or 'most-recent': the
 * slot leased last, waiting for it while it is busy (a snapshot of the sequence generated last).
 */
export type SlotChoice = readonly number[] | 'most-recent';

interface Waiter<Cache> {
  promptIds: readonly number[];
  /** Set when the waiter wants this slot and no other. */
  target?: Slot<Cache>;
  grant(slot: Slot<Cache>): void;
}

export class SlotPool<Cache extends TokenPrefixCache> {
  readonly #slots: Slot<Cache>[];
  readonly #waiting: Waiter<Cache>[] = [];
  readonly #bytesPerToken: number;
  readonly #maxKvBytes: number;
  #clock = 0;

  constructor(caches: readonly Cache[], options: SlotPoolOptions) {
    if (caches.length < 1) throw new GenerationError('SlotPool: at least one slot is needed.');
    this.#slots = caches.map((cache, index) => ({ cache, index, busy: false, lastUsed: 0 }));
    this.#bytesPerToken = options.bytesPerToken;
    this.#maxKvBytes = options.maxKvBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Number of slots: the most sequences that run at once. */
  get size(): number {
    return this.#slots.length;
  }

  /** Every slot's cache, in slot order. */
  get caches(): Cache[] {
    return this.#slots.map((slot) => slot.cache);
  }

  /** Slots held by a request now. */
  get busy(): number {
    return this.#slots.filter((slot) => slot.busy).length;
  }

  /** Bytes of keys and values the slots hold (by the tokens they hold). */
  get heldBytes(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.cache.length, 0) * this.#bytesPerToken;
  }

  /**
   * Resolves with a lease on the best free slot for `promptIds` once there is one, or with undefined if `signal`
   * aborts first (then nothing was taken).
   */
  acquire(promptIds: SlotChoice, signal?: AbortSignal): Promise<SlotLease<Cache> | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    const target = promptIds === 'most-recent' ? this.#slots.reduce((a, b) => (b.lastUsed > a.lastUsed ? b : a)) : undefined;
    if (target && !target.busy) return Promise.resolve(this.#lease(target));
    if (!target && !this.#waiting.some((waiter) => waiter.target === undefined)) {
      const slot = this.#best(promptIds as readonly number[]);
      if (slot) return Promise.resolve(this.#lease(slot));
    }
    return new Promise((resolve) => {
      const waiter: Waiter<Cache> = {
        promptIds: target ? [] : (promptIds as readonly number[]),
        ...(target ? { target } : {}),
        grant: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#lease(slot));
        },
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** The free slot sharing the longest prefix with `promptIds`; among equals, the least recently used. */
  #best(promptIds: readonly number[]): Slot<Cache> | undefined {
    let best: Slot<Cache> | undefined;
    let bestShared = -1;
    const useful = Math.min(MIN_USEFUL_PREFIX, promptIds.length - 1);
    for (const slot of this.#slots) {
      if (slot.busy) continue;
      const common = slot.cache.commonPrefixLength(promptIds);
      const shared = common >= useful ? common : 0;
      if (shared > bestShared || (shared === bestShared && best !== undefined && slot.lastUsed < best.lastUsed)) {
        best = slot;
        bestShared = shared;
      }
    }
    return best;
  }

  #lease(slot: Slot<Cache>): SlotLease<Cache> {
    slot.busy = true;
    slot.lastUsed = ++this.#clock;
    let released = false;
    return {
      cache: slot.cache,
      slot: slot.index,
      release: () => {
        if (released) return;
        released = true;
        slot.busy = false;
        slot.lastUsed = ++this.#clock;
        this.#evict();
        // A waiter for this very slot first, else the first waiter for any slot.
        const index = this.#waiting.findIndex((waiter) => waiter.target === slot || waiter.target === undefined);
        if (index < 0) return;
        const [next] = this.#waiting.splice(index, 1);
        next!.grant(next!.target ?? this.#best(next!.promptIds) ?? slot);
      },
    };
  }

  /** Clears idle slots, least recently used first, while the slots hold more than the bound. */
  #evict(): void {
    if (this.heldBytes <= this.#maxKvBytes) return;
    const idle = this.#slots.filter((slot) => !slot.busy && slot.cache.length > 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const slot of idle) {
      if (this.heldBytes <= this.#maxKvBytes) return;
      slot.cache.clear();
    }
  }
}
