/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) so that a seed reproduces a
 * sampled sequence exactly, on every platform.
 */
export class RandomGenerator {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  /** `seed` is any finite number; it is reduced to 32 bits. Defaults to a random seed. */
  constructor(seed: number = Math.floor(Math.random() * 0x1_0000_0000)) {
    let state = Math.trunc(seed) >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = splitmix();
    this.#s1 = splitmix();
    this.#s2 = splitmix();
    this.#s3 = splitmix();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotateLeft(this.#s3, 11);
    return result;
  }

  /** A float uniformly distributed in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}

function rotateLeft(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded source of floats in [0, 1), for anything that takes a `random: () => number` (retry jitter, tests):
 * `seededRandom(42)` always yields the same sequence.
 */
export function seededRandom(seed: number): () => number {
  const generator = new RandomGenerator(seed);
  return () => generator.nextFloat();
}
