/**
 * The KV cache of GroupQueryAttention graphs whose past and present share one buffer per layer
 * (onnxruntime-genai's `past_present_share_buffer`): the same tensor is fed as `past_key_values.i.*` and bound as
 * the pre-allocated `present.i.*` output, and the kernel writes the new tokens' keys and values into it in place at
 * the valid length (which the attention mask carries). Nothing is concatenated per step, and reusing a prefix is
 * only a shorter valid length.
 *
 * ONNX Runtime Node 1.30 still returns a fresh copy of every fetched output, buffers included. The cache never
 * keeps those copies (they are garbage as soon as the step's logits are read), and the buffers grow in steps of
 * `growthStep` positions instead of starting at the full context, so that copy stays near the valid length.
 */
import { GenerationError } from '../errors';
import { copyHeadPositions, HeldTokenIds, type KeyValueCache, type KvArray, type KvCacheLayout, type KvState } from './kv-cache';
import { createTensor, type OrtTensor } from './onnx-backend';

export interface SharedKvCacheOptions {
  layout: KvCacheLayout;
  /** The longest sequence the buffers may hold (the graph's context length). */
  maxLength: number;
  /** Positions added each time the buffers grow (capped at maxLength). Defaults to 256. */
  growthStep?: number;
}

export class SharedKvCache extends HeldTokenIds implements KeyValueCache {
  readonly layout: KvCacheLayout;
  readonly maxLength: number;
  readonly #growthStep: number;
  #capacity = 0;
  #keys: OrtTensor[] = [];
  #values: OrtTensor[] = [];

  constructor(options: SharedKvCacheOptions) {
    super();
    const growthStep = options.growthStep ?? 256;
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) {
      throw new GenerationError(`SharedKvCache: maxLength must be a positive integer, got ${options.maxLength}.`, { details: { field: 'maxLength' } });
    }
    if (!Number.isInteger(growthStep) || growthStep < 1) {
      throw new GenerationError(`SharedKvCache: growthStep must be a positive integer, got ${growthStep}.`, { details: { field: 'growthStep' } });
    }
    this.layout = options.layout;
    this.maxLength = options.maxLength;
    this.#growthStep = growthStep;
  }


  /** Positions the buffers can hold before they grow. */
  get capacity(): number {
    return this.#capacity;
  }

  exportState(length: number): KvState {
    const kept = Math.min(Math.max(0, length), this.heldIds.length);
    const copy = (tensor: OrtTensor): KvArray => copyHeadPositions(tensor.data as KvArray, this.#capacity, kept, this.layout);
    return { tokenIds: this.heldIds.slice(0, kept), keys: this.#keys.map(copy), values: this.#values.map(copy) };
  }

  /** Writes the state into the buffers (grown to hold it) as their first positions. */
  importState(state: KvState): void {
    const length = state.tokenIds.length;
    this.heldIds = [];
    this.#reserve(Math.max(1, length));
    for (let layer = 0; layer < this.layout.layers; layer++) {
      copyHeadPositions(state.keys[layer]!, length, length, this.layout, this.#keys[layer]!.data as KvArray, this.#capacity);
      copyHeadPositions(state.values[layer]!, length, length, this.layout, this.#values[layer]!.data as KvArray, this.#capacity);
    }
    this.heldIds = [...state.tokenIds];
  }

  /** Binds the buffers as the present outputs, first growing them to hold `newTokens` more positions. */
  addPresentFetches(fetches: Record<string, OrtTensor | null>, newTokens: number): void {
    this.#reserve(this.heldIds.length + newTokens);
    const layout = this.layout;
    for (let layer = 0; layer < layout.layers; layer++) {
      fetches[layout.presentKeyName(layer)] = this.#keys[layer];
      fetches[layout.presentValueName(layer)] = this.#values[layer];
    }
  }

  /** Feeds the same buffers as the past (the mask, not the buffer's length, tells the graph how much is valid). */
  addPastFeeds(feeds: Record<string, OrtTensor>): void {
    if (this.#capacity === 0) this.#reserve(1);
    const layout = this.layout;
    for (let layer = 0; layer < layout.layers; layer++) {
      feeds[layout.pastKeyName(layer)] = this.#keys[layer];
      feeds[layout.pastValueName(layer)] = this.#values[layer];
    }
  }

  /** The run wrote `newIds`' keys and values into the buffers; the returned copies are not kept. */
  update(outputs: Record<string, OrtTensor>, newIds: readonly number[]): void {
    const present = outputs[this.layout.presentKeyName(0)];
    if (present && present.dims[2] !== this.#capacity) {
      throw new GenerationError(
        `Graph output ${this.layout.presentKeyName(0)} has dims [${present.dims.join(', ')}], expected the shared buffer's length ${this.#capacity}: ` +
          'the graph does not share past and present (genai_config.json search.past_present_share_buffer should be false).',
      );
    }
    for (const id of newIds) this.heldIds.push(id);
  }

  /** Keeps the first `length` positions: no copy, later runs overwrite the rest. */
  truncate(length: number): void {
    if (length < this.heldIds.length) this.heldIds.length = Math.max(0, length);
  }

  /** Forgets every position; the buffers stay allocated for the next sequence. */
  clear(): void {
    this.heldIds = [];
  }

  #reserve(needed: number): void {
    if (needed <= this.#capacity) return;
    if (needed > this.maxLength) {
      throw new GenerationError(`The sequence needs ${needed} positions, the shared KV buffer holds at most ${this.maxLength} (the context length).`, {
        details: { needed, maxLength: this.maxLength },
      });
    }
    const capacity = Math.min(this.maxLength, Math.ceil(needed / this.#growthStep) * this.#growthStep);
    const { layers, kvHeads, headDim, type } = this.layout;
    const kept = this.heldIds.length;
    const previous = this.#capacity;
    const grow = (old: OrtTensor | undefined): OrtTensor => {
      const data = type === 'float16' ? new Uint16Array(kvHeads * capacity * headDim) : new Float32Array(kvHeads * capacity * headDim);
      if (old && kept > 0) {
        const source = old.data as Float32Array | Uint16Array;
        for (let head = 0; head < kvHeads; head++) {
          const from = head * previous * headDim;
          data.set(source.subarray(from, from + kept * headDim), head * capacity * headDim);
        }
      }
      return createTensor(type, data, [1, kvHeads, capacity, headDim]);
    };
    this.#keys = Array.from({ length: layers }, (_, layer) => grow(this.#keys[layer]));
    this.#values = Array.from({ length: layers }, (_, layer) => grow(this.#values[layer]));
    this.#capacity = capacity;
  }
}
