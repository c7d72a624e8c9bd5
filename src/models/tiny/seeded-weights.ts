/**
 * Deterministic random weights. Each tensor gets its own stream derived from (seed, tensor name), so a tensor's
 * values do not depend on the order tensors are generated in, and tensors can be produced one at a time while
 * writing.
 */

/** What a parameter is, which decides its distribution. */
export type WeightKind = 'embedding' | 'linear' | 'bias' | 'norm';

function hashName(seed: number, name: string): number {
  // FNV-1a over the name, mixed with the seed.
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= Math.imul((seed / 0x100000000) >>> 0, 0x9e3779b1);
  return hash >>> 0;
}

/** mulberry32: tiny, fast and good enough for weights. Returns floats in [0, 1). */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SQRT3 = Math.sqrt(3);

/**
 * Values of one parameter. Uniform distributions with these standard deviations, chosen so activations of a
 * random model stay of order 1 through the layers: embeddings `scale`; linear weights `scale / sqrt(fanIn)`;
 * biases `0.1 * scale`; norm weights `1 +- 0.1` (not exactly 1, so a missing norm shows up in a numerics test).
 */
export function seededWeight(seed: number, name: string, dims: readonly number[], kind: WeightKind, scale: number): Float32Array {
  const size = dims.reduce((product, dim) => product * dim, 1);
  const values = new Float32Array(size);
  const random = mulberry32(hashName(seed, name));
  if (kind === 'norm') {
    for (let index = 0; index < size; index++) values[index] = 1 + 0.2 * (random() - 0.5);
    return values;
  }
  const fanIn = kind === 'linear' ? dims[dims.length - 1] : 1;
  const std = kind === 'bias' ? 0.1 * scale : scale / Math.sqrt(fanIn);
  const half = SQRT3 * std;
  for (let index = 0; index < size; index++) values[index] = (2 * random() - 1) * half;
  return values;
}
