import { describe, expect, it } from 'vitest';
import type { KvCacheLayout } from '../../src/models/kv-cache';
import { createTensor, type OrtTensor } from '../../src/models/onnx-backend';
import { SharedKvCache } from '../../src/models/shared-kv-cache';

const layout: KvCacheLayout = {
  layers: 2,
  kvHeads: 2,
  headDim: 4,
  type: 'float32',
  pastKeyName: (layer) => `past.${layer}.key`,
  pastValueName: (layer) => `past.${layer}.value`,
  presentKeyName: (layer) => `present.${layer}.key`,
  presentValueName: (layer) => `present.${layer}.value`,
};

/** Plays the graph: writes value `position + 1` for each new position into the bound present buffers. */
function step(cache: SharedKvCache, ids: number[]): { feeds: Record<string, OrtTensor>; fetches: Record<string, OrtTensor | null> } {
  const fetches: Record<string, OrtTensor | null> = { logits: null };
  cache.addPresentFetches(fetches, ids.length);
  const feeds: Record<string, OrtTensor> = {};
  cache.addPastFeeds(feeds);
  const outputs: Record<string, OrtTensor> = {};
  for (const [name, tensor] of Object.entries(fetches)) {
    if (!tensor) continue;
    const [, heads, capacity, headDim] = tensor.dims;
    const data = tensor.data as Float32Array;
    for (let head = 0; head < heads; head++) {
      for (let i = 0; i < ids.length; i++) data.fill(cache.length + i + 1, (head * capacity + cache.length + i) * headDim, (head * capacity + cache.length + i + 1) * headDim);
    }
    outputs[name] = createTensor('float32', new Float32Array(data), tensor.dims); // ONNX Runtime's returned copy
  }
  cache.update(outputs, ids);
  return { feeds, fetches };
}

describe('SharedKvCache', () => {
  it('feeds and fetches the same buffers, grows in steps keeping the valid rows of every head', () => {
    const cache = new SharedKvCache({ layout, maxLength: 10, growthStep: 4 });
    const first = step(cache, [7, 8, 9]);
    expect(cache.capacity).toBe(4);
    expect(first.feeds['past.1.value']).toBe(first.fetches['present.1.value']);
    step(cache, [10, 11]);
    expect(cache.capacity).toBe(8);
    expect(cache.tokenIds).toEqual([7, 8, 9, 10, 11]);
    const { feeds } = step(cache, [12]);
    const key = feeds['past.0.key'];
    expect(key.dims).toEqual([1, 2, 8, 4]);
    const data = key.data as Float32Array;
    for (const head of [0, 1]) {
      expect(Array.from(data.subarray(head * 32, head * 32 + 24))).toEqual([1, 2, 3, 4, 5, 6].flatMap((v) => [v, v, v, v]));
    }
  });

  it('truncates without reallocating, clears to length 0, and refuses more than maxLength', () => {
    const cache = new SharedKvCache({ layout, maxLength: 10, growthStep: 4 });
    const { feeds } = step(cache, [1, 2, 3, 4, 5]);
    cache.truncate(2);
    expect(cache.length).toBe(2);
    expect(cache.commonPrefixLength([1, 2, 9])).toBe(2);
    const after = step(cache, [6]);
    expect(after.feeds['past.0.key']).toBe(feeds['past.0.key']);
    expect(cache.tokenIds).toEqual([1, 2, 6]);
    cache.clear();
    expect(cache.length).toBe(0);
    expect(cache.capacity).toBe(8);
    expect(() => step(cache, new Array(11).fill(1))).toThrow(/needs 11 positions.*at most 10/);
    expect(() => new SharedKvCache({ layout, maxLength: 0 })).toThrow(/maxLength/);
  });

  it('rejects a graph whose present is not the shared buffer', () => {
    const cache = new SharedKvCache({ layout, maxLength: 10, growthStep: 4 });
    const fetches: Record<string, OrtTensor | null> = {};
    cache.addPresentFetches(fetches, 1);
    const grown = createTensor('float32', new Float32Array(2 * 4), [1, 2, 1, 4]);
    expect(() => cache.update({ 'present.0.key': grown }, [1])).toThrow(/past_present_share_buffer/);
  });
});
