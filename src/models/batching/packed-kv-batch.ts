/**
 * The keys and values of the sequences in one batched decode step, packed along the batch dimension, kept packed
 * from step to step while the members stay the same (a steady batch copies nothing in JavaScript), and given back
 * to each member's own cache (importKv) when the membership changes or a member is used alone.
 *
 * - Growing past (Optimum layout): past [B, kvHeads, P, headDim], row b right-padded after its L_b positions; each
 *   step appends one column for every row (present = past + 1), so a padded row keeps its hole; the attention
 *   mask marks the hole with zeros and position_ids carry each row's own position. Unpacking gathers the positions
 *   the mask marks.
 * - Shared buffer (GroupQueryAttention, onnxruntime-genai): one [B, kvHeads, capacity, headDim] buffer per layer fed
 *   as past and bound as present; row b's mask holds L_b + 1 ones (seqlens_k = L_b), so the kernel writes row b's
 *   new token at its own position L_b and attends to its own L_b + 1 positions.
 */
import { GenerationError } from '../../errors';
import { copyHeadPositions, kvArray, type KeyValueCache, type KvArray, type KvBorrower, type KvCacheLayout, type KvRows } from '../kv-cache';
import { createTensor, type OrtTensor } from '../onnx-backend';

export interface PackedKvBatchOptions {
  layout: KvCacheLayout;
  /** The graph's attention mask input. */
  attentionMaskName: string;
  /** Set for the shared-buffer layout: the longest a row may grow, and the growth step of the buffers. */
  sharedBuffer?: { maxLength: number; growthStep?: number };
}

export class PackedKvBatch implements KvBorrower {
  readonly #layout: KvCacheLayout;
  readonly #maskName: string;
  readonly #shared: { maxLength: number; growthStep: number } | undefined;
  #members: KeyValueCache[] = [];
  #keys: OrtTensor[] = [];
  #values: OrtTensor[] = [];
  /** Positions per row in the tensors (P of the growing past, the capacity of a shared buffer). */
  #width = 0;
  /** Growing past only: [B, P] ones where a row holds a position. */
  #mask: BigInt64Array = new BigInt64Array(0);
  /** How many times the members changed (a pack after an unpack): for tests and benchmarks. */
  repacks = 0;

  constructor(options: PackedKvBatchOptions) {
    this.#layout = options.layout;
    this.#maskName = options.attentionMaskName;
    this.#shared = options.sharedBuffer && { maxLength: options.sharedBuffer.maxLength, growthStep: options.sharedBuffer.growthStep ?? 256 };
  }

  /** The caches packed now, in row order. */
  get members(): readonly KeyValueCache[] {
    return this.#members;
  }

  /**
   * Adds the batch's inputs for one new token per member (past, attention mask; present buffers for the shared
   * layout) to a run's feeds and fetches, first packing `caches` if they are not the members already packed.
   */
  addFeeds(caches: readonly KeyValueCache[], feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>): void {
    if (!sameMembers(this.#members, caches)) {
      this.reclaim();
      this.#pack(caches);
    }
    const layout = this.#layout;
    const rows = caches.length;
    let mask: BigInt64Array;
    let maskWidth: number;
    if (this.#shared) {
      const longest = Math.max(...caches.map((cache) => cache.length)) + 1;
      if (longest > this.#width) this.#grow(longest);
      maskWidth = longest;
      mask = new BigInt64Array(rows * maskWidth);
      caches.forEach((cache, row) => mask.fill(1n, row * maskWidth, row * maskWidth + cache.length + 1));
    } else {
      const width = this.#width;
      maskWidth = width + 1;
      mask = new BigInt64Array(rows * maskWidth);
      for (let row = 0; row < rows; row++) {
        mask.set(this.#mask.subarray(row * width, (row + 1) * width), row * maskWidth);
        mask[row * maskWidth + width] = 1n;
      }
    }
    feeds[this.#maskName] = createTensor('int64', mask, [rows, maskWidth]);
    for (let layer = 0; layer < layout.layers; layer++) {
      feeds[layout.pastKeyName(layer)] = this.#keys[layer]!;
      feeds[layout.pastValueName(layer)] = this.#values[layer]!;
      if (this.#shared) {
        fetches[layout.presentKeyName(layer)] = this.#keys[layer]!;
        fetches[layout.presentValueName(layer)] = this.#values[layer]!;
      }
    }
    if (!this.#shared) this.#mask = mask;
  }

  /** Takes a step's outputs: the new token of row b is `ids[b]`. */
  advance(outputs: Record<string, OrtTensor>, ids: readonly number[]): void {
    const layout = this.#layout;
    if (!this.#shared) {
      const expected = this.#width + 1;
      for (let layer = 0; layer < layout.layers; layer++) {
        const key = outputs[layout.presentKeyName(layer)];
        const value = outputs[layout.presentValueName(layer)];
        if (!key || !value || key.dims[2] !== expected || key.dims[0] !== ids.length) {
          throw new GenerationError(`Batched run: graph output ${layout.presentKeyName(layer)} has dims [${key?.dims.join(', ')}], expected [${ids.length}, .., ${expected}, ..].`);
        }
        this.#keys[layer] = key;
        this.#values[layer] = value;
      }
      this.#width = expected;
    }
    this.#members.forEach((cache, row) => cache.appendIds([ids[row]!]));
  }

  /** Gives every member its keys and values back (compact) and empties the batch. */
  reclaim(): void {
    const members = this.#members;
    if (members.length === 0) return;
    this.#members = [];
    const { kvHeads, headDim, type } = this.#layout;
    const width = this.#width;
    members.forEach((cache, row) => {
      cache.borrower = undefined;
      // The positions row `row` holds, as runs [start, end) of the packed width.
      const runs: Array<[number, number]> = [];
      if (this.#shared) runs.push([0, cache.length]);
      else {
        for (let j = 0; j < width; j++) {
          if (this.#mask[row * width + j] !== 1n) continue;
          const last = runs[runs.length - 1];
          if (last && last[1] === j) last[1] = j + 1;
          else runs.push([j, j + 1]);
        }
      }
      const length = runs.reduce((sum, [start, end]) => sum + end - start, 0);
      if (length !== cache.length) throw new GenerationError(`Batched KV: row ${row} holds ${length} positions, its cache ${cache.length} ids.`);
      const gather = (tensor: OrtTensor): KvArray => {
        const source = tensor.data as KvArray;
        const target = kvArray(type, kvHeads * length * headDim);
        let at = 0;
        for (let head = 0; head < kvHeads; head++) {
          const base = (row * kvHeads + head) * width * headDim;
          for (const [start, end] of runs) {
            target.set(source.subarray(base + start * headDim, base + end * headDim), at);
            at += (end - start) * headDim;
          }
        }
        return target;
      };
      cache.importKv({ length, keys: this.#keys.map(gather), values: this.#values.map(gather) });
    });
    this.#keys = [];
    this.#values = [];
    this.#width = 0;
    this.#mask = new BigInt64Array(0);
  }

  #pack(caches: readonly KeyValueCache[]): void {
    const rows: KvRows[] = caches.map((cache) => cache.exportKv());
    const longest = Math.max(...rows.map((row) => row.length));
    const width = this.#shared ? this.#capacityFor(longest + 1) : longest;
    const { layers, kvHeads, headDim, type } = this.#layout;
    const dims = [caches.length, kvHeads, width, headDim];
    const place = (pick: (row: KvRows) => KvArray): OrtTensor => {
      const data = kvArray(type, caches.length * kvHeads * width * headDim);
      rows.forEach((row, b) => copyHeadPositions(pick(row), row.length, row.length, this.#layout, data.subarray(b * kvHeads * width * headDim), width));
      return createTensor(type, data, dims);
    };
    this.#keys = Array.from({ length: layers }, (_, layer) => place((row) => row.keys[layer]!));
    this.#values = Array.from({ length: layers }, (_, layer) => place((row) => row.values[layer]!));
    this.#width = width;
    if (!this.#shared) {
      this.#mask = new BigInt64Array(caches.length * width);
      rows.forEach((row, b) => this.#mask.fill(1n, b * width, b * width + row.length));
    }
    for (const cache of caches) {
      cache.releaseBuffers();
      cache.borrower = this;
    }
    this.#members = [...caches];
    this.repacks++;
  }

  /** Shared layout: a wider buffer for rows of up to `needed` positions, each row's positions copied over. */
  #grow(needed: number): void {
    const width = this.#capacityFor(needed);
    const { kvHeads, headDim, type } = this.#layout;
    const old = this.#width;
    const members = this.#members;
    const widen = (tensor: OrtTensor): OrtTensor => {
      const source = tensor.data as KvArray;
      const data = kvArray(type, members.length * kvHeads * width * headDim);
      members.forEach((cache, b) =>
        copyHeadPositions(source.subarray(b * kvHeads * old * headDim), old, cache.length, this.#layout, data.subarray(b * kvHeads * width * headDim), width),
      );
      return createTensor(type, data, [members.length, kvHeads, width, headDim]);
    };
    this.#keys = this.#keys.map(widen);
    this.#values = this.#values.map(widen);
    this.#width = width;
  }

  #capacityFor(needed: number): number {
    const shared = this.#shared!;
    if (needed > shared.maxLength) {
      throw new GenerationError(`The sequence needs ${needed} positions, the shared KV buffer holds at most ${shared.maxLength} (the context length).`, {
        details: { needed, maxLength: shared.maxLength },
      });
    }
    return Math.min(shared.maxLength, Math.ceil(needed / shared.growthStep) * shared.growthStep);
  }
}

function sameMembers(packed: readonly KeyValueCache[], caches: readonly KeyValueCache[]): boolean {
  return packed.length === caches.length && packed.every((cache, index) => cache === caches[index]);
}
