import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KvSnapshotError } from '../../src/errors';
import { KvCache, type KeyValueCache, type KvCacheLayout } from '../../src/models/kv-cache';
import { KV_SNAPSHOT_FORMAT, loadKvSnapshot, saveKvSnapshot, type KvSnapshotModel } from '../../src/models/kv-snapshot';
import { createTensor, type OrtTensor } from '../../src/models/onnx-backend';
import { seededRandom } from '../../src/models/generation/random-generator';
import { SharedKvCache } from '../../src/models/shared-kv-cache';

const layoutOf = (type: KvCacheLayout['type'], layers = 3): KvCacheLayout => ({
  layers,
  kvHeads: 2,
  headDim: 4,
  type,
  pastKeyName: (layer) => `past.${layer}.key`,
  pastValueName: (layer) => `past.${layer}.value`,
  presentKeyName: (layer) => `present.${layer}.key`,
  presentValueName: (layer) => `present.${layer}.value`,
});

const model: KvSnapshotModel = { fingerprint: 'a'.repeat(64), name: 'tiny (model.onnx)' };
const limits = { model, vocabSize: 100, contextLength: 64 };

/** Plays the graph for `ids`: random KV for the new positions, written the way each layout receives it. */
function feed(cache: KeyValueCache, ids: number[], random: () => number): void {
  const { layers, kvHeads, headDim, type } = cache.layout;
  const fetches: Record<string, OrtTensor | null> = {};
  cache.addPresentFetches?.(fetches, ids.length);
  const outputs: Record<string, OrtTensor> = {};
  const total = cache.length + ids.length;
  for (let layer = 0; layer < layers; layer++) {
    for (const name of [cache.layout.presentKeyName(layer), cache.layout.presentValueName(layer)]) {
      const bound = fetches[name];
      const capacity = bound ? bound.dims[2] : total;
      const data = bound ? (bound.data as Float32Array | Uint16Array) : type === 'float16' ? new Uint16Array(kvHeads * total * headDim) : new Float32Array(kvHeads * total * headDim);
      if (!bound && cache.length > 0) {
        // The growing layout returns past + new: keep what the cache held.
        const past = cache.exportState(cache.length);
        const held = (name.endsWith('key') ? past.keys : past.values)[layer]!;
        for (let head = 0; head < kvHeads; head++) data.set(held.subarray(head * cache.length * headDim, (head + 1) * cache.length * headDim), head * total * headDim);
      }
      for (let head = 0; head < kvHeads; head++) {
        for (let position = cache.length; position < total; position++) {
          for (let d = 0; d < headDim; d++) data[(head * capacity + position) * headDim + d] = type === 'float16' ? Math.floor(random() * 0x7bff) : random();
        }
      }
      outputs[name] = createTensor(type, type === 'float16' ? new Uint16Array(data) : new Float32Array(data), [1, kvHeads, capacity, headDim]);
    }
  }
  cache.update(outputs, ids);
}

const caches = {
  growing: (type: KvCacheLayout['type']) => new KvCache(layoutOf(type)),
  shared: (type: KvCacheLayout['type']) => new SharedKvCache({ layout: layoutOf(type), maxLength: 64, growthStep: 4 }),
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kv-snapshot-'));
}

function expectSnapshotError(run: () => unknown, reason: string, text: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(KvSnapshotError.isInstance(error)).toBe(true);
    expect((error as KvSnapshotError).details.reason).toBe(reason);
    expect((error as Error).message).toMatch(text);
    return;
  }
  throw new Error(`expected a KvSnapshotError (${reason})`);
}

describe('KV snapshot files', () => {
  for (const kind of ['growing', 'shared'] as const) {
    for (const type of ['float32', 'float16'] as const) {
      it(`round-trips the ${kind} layout with ${type} KV, a prefix of it, into a cache of the same layout`, () => {
        const random = seededRandom(3);
        const source = caches[kind](type);
        feed(source, [5, 6, 7], random);
        feed(source, [8, 9], random);
        const dir = tempDir();
        const file = join(dir, 'step.kvs');
        const info = saveKvSnapshot(source, file, { model, length: 4, meta: { step: 'summary' } });
        const kvBytes = 2 * 3 * 2 * 4 * 4 * (type === 'float16' ? 2 : 4);
        expect(info.tokens).toBe(4);
        expect(info.bytes).toBe(statSync(file).size);
        expect(info.bytes - kvBytes - 4 * 4).toBeLessThan(400); // the rest is the header and the checksum
        expect(readdirSync(dir)).toEqual(['step.kvs']); // no temporary file left

        const target = caches[kind](type);
        feed(target, [1, 2, 3, 4, 5, 6], random); // replaced, not appended to
        const header = loadKvSnapshot(target, file, limits);
        expect(header.meta).toEqual({ step: 'summary' });
        expect(target.tokenIds).toEqual([5, 6, 7, 8]);
        expect(target.exportState(4)).toEqual(source.exportState(4));
        // The loaded cache goes on like the original: the next positions land after the loaded ones.
        feed(target, [10], random);
        expect(target.tokenIds).toEqual([5, 6, 7, 8, 10]);
        expect(target.exportState(4)).toEqual(source.exportState(4));
      });
    }
  }

  it('refuses a snapshot of another model, another KV shape, or ids outside the vocabulary, leaving the cache as it was', () => {
    const random = seededRandom(4);
    const source = caches.growing('float32');
    feed(source, [1, 2, 3], random);
    const file = join(tempDir(), 'a.kvs');
    saveKvSnapshot(source, file, { model });
    const target = caches.growing('float32');
    feed(target, [4, 4], random);
    const before = target.exportState(2);
    expectSnapshotError(() => loadKvSnapshot(target, file, { ...limits, model: { fingerprint: 'b'.repeat(64), name: 'other' } }), 'model', /saved from model tiny .*not other/);
    expectSnapshotError(() => loadKvSnapshot(new KvCache(layoutOf('float32', 2)), file, limits), 'shape', /3 layers x 2 heads x 4.*2 x 2 x 4/);
    expectSnapshotError(() => loadKvSnapshot(caches.growing('float16'), file, limits), 'shape', /float32 KV/);
    expectSnapshotError(() => loadKvSnapshot(target, file, { ...limits, vocabSize: 3 }), 'model', /id 3, outside the vocabulary \[0, 3\)/);
    expectSnapshotError(() => loadKvSnapshot(target, file, { ...limits, contextLength: 2 }), 'shape', /more than the model's context of 2/);
    expect(target.exportState(2)).toEqual(before);
  });

  it('refuses a truncated, corrupt, foreign or missing file, and one of another format version', () => {
    const random = seededRandom(5);
    const source = caches.shared('float16');
    feed(source, [1, 2, 3, 4], random);
    const dir = tempDir();
    const file = join(dir, 'a.kvs');
    saveKvSnapshot(source, file, { model });
    const bytes = readFileSync(file);
    const target = caches.shared('float16');
    const variant = (name: string, data: Buffer): string => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    expectSnapshotError(() => loadKvSnapshot(target, variant('cut.kvs', bytes.subarray(0, bytes.length - 40)), limits), 'truncated', /truncated/);
    expectSnapshotError(() => loadKvSnapshot(target, variant('head.kvs', bytes.subarray(0, 20)), limits), 'truncated', /truncated/);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 100] ^= 0x40;
    expectSnapshotError(() => loadKvSnapshot(target, variant('flip.kvs', flipped), limits), 'checksum', /does not match its checksum/);
    const longer = Buffer.concat([bytes, Buffer.from([0])]);
    expectSnapshotError(() => loadKvSnapshot(target, variant('long.kvs', longer), limits), 'checksum', /corrupt/);
    const version = Buffer.from(bytes);
    version.writeUInt32LE(KV_SNAPSHOT_FORMAT + 1, 8);
    expectSnapshotError(() => loadKvSnapshot(target, variant('v2.kvs', version), limits), 'version', new RegExp(`format version ${KV_SNAPSHOT_FORMAT + 1}`));
    expectSnapshotError(() => loadKvSnapshot(target, variant('text.kvs', Buffer.from('{"not":"a snapshot"}')), limits), 'format', /not a KV snapshot/);
    expectSnapshotError(() => loadKvSnapshot(target, join(dir, 'missing.kvs'), limits), 'read', /ENOENT/);
    expect(target.length).toBe(0);
    loadKvSnapshot(target, file, limits);
    expect(target.tokenIds).toEqual([1, 2, 3, 4]);
  });

  it('says where a snapshot cannot be written', () => {
    const source = caches.growing('float32');
    feed(source, [1], seededRandom(6));
    expectSnapshotError(() => saveKvSnapshot(source, join(tempDir(), 'missing-dir', 'a.kvs'), { model }), 'write', /Cannot write the KV snapshot .*missing-dir/);
  });
});
