import { createTensor, type OrtTensor } from './onnx-backend';

/** Shape facts of the graph's past/present tensors. */
export interface KvCacheLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Element type of past/present tensors as the graph declares them. */
  type: 'float32' | 'float16';
  /** Input name of layer i's key/value past (e.g. `past_key_values.0.key`). */
  pastKeyName(layer: number): string;
  pastValueName(layer: number): string;
  presentKeyName(layer: number): string;
  presentValueName(layer: number): string;
}

/**
 * The keys and values of the tokens a graph has seen, with those tokens' ids. The engine works through this
 * interface so that cache layouts can differ by graph: the growing past of the Optimum layout (KvCache below) now;
 * max-length buffers shared by past and present (GroupQueryAttention graphs) later.
 */
export interface KeyValueCache extends TokenPrefixCache {
  readonly layout: KvCacheLayout;
  /** Adds the past tensors (and whatever else the layout feeds, such as a shared buffer's length) to a run's feeds. */
  addPastFeeds(feeds: Record<string, OrtTensor>): void;
  /** Pre-allocated outputs for the next run, for layouts whose present is written into a buffer they own. */
  addPresentFetches?(fetches: Record<string, OrtTensor | null>, newTokens: number): void;
  /** Takes the run's outputs after it consumed `newIds`. */
  update(outputs: Record<string, OrtTensor>, newIds: readonly number[]): void;
  /** The first `length` positions (at most the length held) as a compact copy: what a KV snapshot stores. */
  exportState(length: number): KvState;
  /** Replaces the contents with `state` (a loaded KV snapshot); its arrays must match the layout. */
  importState(state: KvState): void;
}

/** Element array of a KV tensor: float32, or float16 as raw 16-bit words. */
export type KvArray = Float32Array | Uint16Array;

/** A cache's contents outside ONNX tensors: ids, and per layer keys and values as [kvHeads, length, headDim]. */
export interface KvState {
  tokenIds: number[];
  keys: KvArray[];
  values: KvArray[];
}

/**
 * Copies the first `length` positions of every head from a [kvHeads, sourceLength, headDim] array into a
 * [kvHeads, targetLength, headDim] one (a new compact array when `target` is absent).
 */
export function copyHeadPositions(
  source: KvArray,
  sourceLength: number,
  length: number,
  layout: Pick<KvCacheLayout, 'kvHeads' | 'headDim' | 'type'>,
  target?: KvArray,
  targetLength = length,
): KvArray {
  const { kvHeads, headDim } = layout;
  const out = target ?? (layout.type === 'float16' ? new Uint16Array(kvHeads * length * headDim) : new Float32Array(kvHeads * length * headDim));
  for (let head = 0; head < kvHeads; head++) {
    const from = head * sourceLength * headDim;
    out.set(source.subarray(from, from + length * headDim), head * targetLength * headDim);
  }
  return out;
}

/** What the generation loop reads and changes of a cache: the ids it holds (its prefix cache). */
export interface TokenPrefixCache {
  readonly length: number;
  readonly tokenIds: readonly number[];
  commonPrefixLength(ids: readonly number[]): number;
  /** Keeps only the first `length` positions. */
  truncate(length: number): void;
  /** Drops everything (past length 0). */
  clear(): void;
}

/**
 * The token ids whose keys and values a cache holds, in order: the part of TokenPrefixCache every cache shares.
 * Subclasses push, cut and reset `heldIds` as their tensors change.
 */
export abstract class HeldTokenIds {
  protected heldIds: number[] = [];

  /** Number of positions held. */
  get length(): number {
    return this.heldIds.length;
  }

  /** The ids whose KV is held, in order. */
  get tokenIds(): readonly number[] {
    return this.heldIds;
  }

  /** Length of the longest common prefix of `ids` and the held ids. */
  commonPrefixLength(ids: readonly number[]): number {
    return commonPrefixLength(this.heldIds, ids);
  }
}

/**
 * The growing KV cache of the Optimum layout (past [1, kvHeads, past, headDim] in, present [.., past + n, ..] out),
 * together with the token ids whose keys and values it holds. ONNX Runtime's present tensors become the next
 * step's past as they are: nothing is copied in JavaScript per step. Only `truncate` (reusing part of a previous
 * sequence for the prefix cache) copies, once per request.
 */
export class KvCache extends HeldTokenIds implements KeyValueCache {
  readonly layout: KvCacheLayout;
  #keys: OrtTensor[] = [];
  #values: OrtTensor[] = [];

  constructor(layout: KvCacheLayout) {
    super();
    this.layout = layout;
    this.clear();
  }

  exportState(length: number): KvState {
    const kept = Math.min(Math.max(0, length), this.heldIds.length);
    const held = this.heldIds.length;
    const copy = (tensor: OrtTensor): KvArray => copyHeadPositions(tensor.data as KvArray, held, kept, this.layout);
    return { tokenIds: this.heldIds.slice(0, kept), keys: this.#keys.map(copy), values: this.#values.map(copy) };
  }

  importState(state: KvState): void {
    const { kvHeads, headDim, type } = this.layout;
    const dims = [1, kvHeads, state.tokenIds.length, headDim];
    this.#keys = state.keys.map((data) => createTensor(type, data, dims));
    this.#values = state.values.map((data) => createTensor(type, data, dims));
    this.heldIds = [...state.tokenIds];
  }

  /** Adds the past tensors to a feeds object. */
  addPastFeeds(feeds: Record<string, OrtTensor>): void {
    const layout = this.layout;
    for (let layer = 0; layer < layout.layers; layer++) {
      feeds[layout.pastKeyName(layer)] = this.#keys[layer];
      feeds[layout.pastValueName(layer)] = this.#values[layer];
    }
  }

  /** Takes the present tensors of a run that consumed `newIds` as the new contents (no copy). */
  update(outputs: Record<string, OrtTensor>, newIds: readonly number[]): void {
    const layout = this.layout;
    const expected = this.heldIds.length + newIds.length;
    for (let layer = 0; layer < layout.layers; layer++) {
      const key = outputs[layout.presentKeyName(layer)];
      const value = outputs[layout.presentValueName(layer)];
      if (!key || !value || key.dims[2] !== expected || value.dims[2] !== expected) {
        throw new Error(
          `Graph output ${layout.presentKeyName(layer)} has dims [${key?.dims.join(', ')}], expected past length ${expected}.`,
        );
      }
      this.#keys[layer] = key;
      this.#values[layer] = value;
    }
    for (const id of newIds) this.heldIds.push(id);
  }

  /** Keeps only the first `length` positions. Copies each layer's kept slice once. */
  truncate(length: number): void {
    const current = this.heldIds.length;
    if (length >= current) return;
    if (length <= 0) {
      this.clear();
      return;
    }
    const { kvHeads, headDim } = this.layout;
    const cut = (tensor: OrtTensor): OrtTensor => {
      const source = tensor.data as Float32Array | Uint16Array;
      const target = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(kvHeads * length * headDim);
      for (let head = 0; head < kvHeads; head++) {
        const from = head * current * headDim;
        target.set(source.subarray(from, from + length * headDim), head * length * headDim);
      }
      return createTensor(this.layout.type, target, [1, kvHeads, length, headDim]);
    };
    this.#keys = this.#keys.map(cut);
    this.#values = this.#values.map(cut);
    this.heldIds.length = length;
  }

  /** Drops everything (past length 0). */
  clear(): void {
    const { layers, kvHeads, headDim, type } = this.layout;
    const empty = (): OrtTensor =>
      createTensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, kvHeads, 0, headDim]);
    this.#keys = Array.from({ length: layers }, empty);
    this.#values = Array.from({ length: layers }, empty);
    this.heldIds = [];
  }
}

/** Length of the longest common prefix of two token sequences: how much of a held KV cache a new request can reuse. */
export function commonPrefixLength(held: readonly number[], ids: readonly number[]): number {
  const limit = Math.min(held.length, ids.length);
  let i = 0;
  while (i < limit && held[i] === ids[i]) i++;
  return i;
}
