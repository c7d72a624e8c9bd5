import { GenerationError } from '../../errors';
import { RandomGenerator } from './random-generator';

export interface TokenSamplerOptions {
  /** Vocabulary size: the length of every logits row. */
  vocabSize: number;
  /** 0 means greedy (argmax). Defaults to 0. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 disables. Defaults to 0. */
  topK?: number;
  /** Nucleus threshold in (0, 1]; 1 disables. Defaults to 1. */
  topP?: number;
  /** Seed of the RNG. Defaults to a random seed. */
  seed?: number;
}

/** Histogram buckets per bit of weight: one bucket spans a factor 2^(1/64) (about 1.011) of weight. */
const BUCKETS_PER_BIT = 64;
/**
 * Top-p leaves out tokens weighing under 2^-40 of the most likely one: even 151k of them hold less than 1.4e-7 of
 * its mass, and skipping them makes masked (-Infinity) and far-off tokens cost one comparison.
 */
const NUCLEUS_BITS = 40;
const NUCLEUS_BUCKETS = NUCLEUS_BITS * BUCKETS_PER_BIT;
/** A boundary bucket holding at most this many tokens is sorted; a larger one is split by a finer histogram first. */
const SORT_LIMIT = 256;
/** Sub-buckets of the finer histogram of a crowded boundary bucket (each spans 2^-16 of a bit: near-ties). */
const FINE_BUCKETS = 1024;
/** 2^(-k / BUCKETS_PER_BIT): the weight at the top edge of bucket k. */
const BUCKET_WEIGHT = Float64Array.from({ length: NUCLEUS_BUCKETS }, (_, k) => 2 ** (-k / BUCKETS_PER_BIT));
const NATS_PER_BUCKET = Math.LN2 / BUCKETS_PER_BIT;

interface NucleusBuffers {
  weights: Float32Array;
  /** The next token of the same bucket (a singly linked list per bucket, newest first). */
  next: Int32Array;
  boundary: Int32Array;
}

/**
 * Picks the next token from a row of logits: greedy, or temperature sampling restricted by top-k and top-p. Top-k
 * selects its candidates with a bounded heap; top-p buckets the whole row by weight in one pass and only orders
 * the tokens of the bucket where the nucleus ends, so neither ever sorts the vocabulary. All buffers are allocated
 * once per sampler, not per step.
 */
export class TokenSampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  #random: RandomGenerator;
  #heapValues: Float32Array;
  #heapIndices: Int32Array;
  #weights: Float64Array;
  /** Per-token buffers of the top-p path (allocated on first need). */
  #row: NucleusBuffers | undefined;
  /** Per-token weights of the temperature-only path (allocated on first need). */
  #exactWeights: Float64Array | undefined;
  #bucketMass = new Float64Array(NUCLEUS_BUCKETS);
  #bucketHead = new Int32Array(NUCLEUS_BUCKETS);
  #fineMass = new Float64Array(FINE_BUCKETS);
  #fineCount = new Int32Array(FINE_BUCKETS);
  #sortKeys = new Float64Array(SORT_LIMIT);

  constructor(options: TokenSamplerOptions) {
    this.temperature = check('temperature', options.temperature ?? 0, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
    this.topK = check('topK', options.topK ?? 0, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
    this.topP = check('topP', options.topP ?? 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    check('vocabSize', options.vocabSize, (v) => Number.isInteger(v) && v > 0 && v <= ID_RANGE, `an integer in [1, ${ID_RANGE}]`);
    this.#random = new RandomGenerator(options.seed);
    const capacity = Math.min(options.vocabSize, this.topK);
    this.#heapValues = new Float32Array(capacity);
    this.#heapIndices = new Int32Array(capacity);
    this.#weights = new Float64Array(capacity);
  }

  /** The next token id. `logits` may be modified (scaled) in place. */
  sample(logits: Float32Array): number {
    if (this.temperature === 0) return argmax(logits);
    const n = logits.length;
    const inverseTemperature = 1 / this.temperature;
    if (this.topK === 0 || this.topK >= n) {
      return this.topP >= 1 ? this.#sampleAll(logits, inverseTemperature) : this.#sampleNucleus(logits, inverseTemperature);
    }

    // Top-k, then top-p among the k candidates.
    const candidates = this.topK;
    this.#selectTop(logits, candidates);
    const max = this.#heapValues[0];
    if (max === -Infinity) throw noCandidate();
    const weights = this.#weights;
    let total = 0;
    for (let i = 0; i < candidates; i++) {
      const weight = Math.exp((this.#heapValues[i] - max) * inverseTemperature);
      weights[i] = weight;
      total += weight;
    }
    let keep = candidates;
    if (this.topP < 1) {
      const target = this.topP * total;
      let cumulative = 0;
      for (let i = 0; i < candidates; i++) {
        cumulative += weights[i];
        if (cumulative >= target) {
          keep = i + 1;
          break;
        }
      }
    }
    let keptMass = 0;
    for (let i = 0; i < keep; i++) keptMass += weights[i];
    if (!(keptMass > 0)) throw noCandidate();
    let draw = this.#random.nextFloat() * keptMass;
    for (let i = 0; i < keep; i++) {
      draw -= weights[i];
      if (draw < 0) return this.#heapIndices[i];
    }
    return this.#heapIndices[keep - 1];
  }

  /**
   * Consumes the random draw `sample` would have made (none when greedy): a token appended without sampling
   * (jump-forward) keeps the seeded stream where token-by-token decoding has it.
   */
  skipDraw(): void {
    if (this.temperature > 0) this.#random.nextFloat();
  }

  /** A float in [0, 1) from this sampler's seeded stream (speculative acceptance draws from it too). */
  nextRandom(): number {
    return this.#random.nextFloat();
  }

  #rowBuffers(n: number): NucleusBuffers {
    if (this.#row === undefined || this.#row.weights.length < n) {
      this.#row = { weights: new Float32Array(n), next: new Int32Array(n), boundary: new Int32Array(n) };
    }
    return this.#row;
  }

  /**
   * Top-p over the whole vocabulary. One pass weighs every token (2^-y with y its distance to the best in bits,
   * from a table per 1/64 bit times a short series: relative error under 3e-7), adds it to a histogram by y and
   * links it into its bucket's list. Walking the histogram from the top finds the bucket where the cumulative mass
   * reaches p: buckets above it are kept, buckets below dropped, and only the boundary bucket's tokens are ordered
   * (by logit, then id) to keep exactly the smallest set reaching p. The draw picks a bucket by mass, then a token
   * in that bucket's list, so nothing after the first pass touches the whole row.
   */
  #sampleNucleus(logits: Float32Array, inverseTemperature: number): number {
    const n = logits.length;
    const best = argmax(logits);
    const max = logits[best];
    if (max === -Infinity || Number.isNaN(max)) throw noCandidate();
    const { weights, next, boundary } = this.#rowBuffers(n);
    const mass = this.#bucketMass.fill(0);
    const head = this.#bucketHead.fill(-1);
    const scale = inverseTemperature * Math.LOG2E * BUCKETS_PER_BIT;
    for (let i = 0; i < n; i++) {
      const y = (max - logits[i]) * scale;
      // Negligible, masked or NaN: in no bucket, never a candidate.
      if (!(y < NUCLEUS_BUCKETS)) continue;
      const k = y | 0;
      const r = (y - k) * NATS_PER_BUCKET;
      // exp(-r) for r < 0.011 nats to 2e-7.
      const weight = BUCKET_WEIGHT[k] * (1 - r * (1 - r * 0.5));
      weights[i] = weight;
      mass[k] += weight;
      next[i] = head[k];
      head[k] = i;
    }
    let total = 0;
    for (let k = 0; k < NUCLEUS_BUCKETS; k++) total += mass[k];

    const target = this.topP * total;
    let above = 0;
    let edge = 0;
    while (edge < NUCLEUS_BUCKETS - 1 && (mass[edge] === 0 || above + mass[edge] < target)) above += mass[edge++];
    let size = 0;
    for (let id = head[edge]; id !== -1; id = next[id]) boundary[size++] = id;
    const kept = above + this.#keepFromBoundary(logits, max, scale, edge, boundary, size, target - above, 0);
    if (!(kept > 0)) throw noCandidate();

    let draw = this.#random.nextFloat() * kept;
    let bucket = 0;
    for (; bucket < edge && draw >= mass[bucket]; bucket++) draw -= mass[bucket];
    let last = best;
    for (let id = head[bucket]; id !== -1; id = next[id]) {
      const weight = weights[id];
      if (weight === 0) continue; // a boundary token left out
      last = id;
      draw -= weight;
      if (draw < 0) return id;
    }
    return last;
  }

  /**
   * Keeps the best of the `size` tokens in `ids` (one bucket) until their mass reaches `need`, zeroing the weight
   * of the others; returns the kept mass. A crowded bucket is split by a finer histogram first; past that, tokens
   * in one sub-bucket are near-ties and are kept or dropped together.
   */
  #keepFromBoundary(logits: Float32Array, max: number, scale: number, edge: number, ids: Int32Array, size: number, need: number, depth: number): number {
    const weights = this.#row!.weights;
    if (size <= SORT_LIMIT) {
      const keys = this.#sortKeys;
      // Insertion sort in place: few keys, and no view or copy allocated per step.
      for (let j = 0; j < size; j++) {
        const key = orderKey(logits[ids[j]], ids[j]);
        let at = j;
        for (; at > 0 && keys[at - 1] > key; at--) keys[at] = keys[at - 1];
        keys[at] = key;
      }
      let kept = 0;
      for (let j = 0; j < size; j++) {
        const id = keys[j] % ID_RANGE;
        if (kept < need) kept += weights[id];
        else weights[id] = 0;
      }
      return kept;
    }
    if (depth > 0) {
      let kept = 0;
      for (let j = 0; j < size; j++) kept += weights[ids[j]];
      return kept;
    }
    const fineMass = this.#fineMass.fill(0);
    const fineCount = this.#fineCount.fill(0);
    for (let j = 0; j < size; j++) {
      const sub = fineBucket(logits[ids[j]], max, scale, edge);
      fineMass[sub] += weights[ids[j]];
      fineCount[sub]++;
    }
    let above = 0;
    let sub = 0;
    while (sub < FINE_BUCKETS - 1 && (fineCount[sub] === 0 || above + fineMass[sub] < need)) above += fineMass[sub++];
    // Compact the boundary sub-bucket's tokens to the front of `ids`, zeroing those below it.
    let subSize = 0;
    for (let j = 0; j < size; j++) {
      const id = ids[j];
      const bucket = fineBucket(logits[id], max, scale, edge);
      if (bucket === sub) ids[subSize++] = id;
      else if (bucket > sub) weights[id] = 0;
    }
    return above + this.#keepFromBoundary(logits, max, scale, edge, ids, subSize, need - above, depth + 1);
  }

  #sampleAll(logits: Float32Array, inverseTemperature: number): number {
    const n = logits.length;
    const max = logits[argmax(logits)];
    if (max === -Infinity) throw noCandidate();
    // Weighed once and kept, instead of a second pass of Math.exp while drawing.
    if (this.#exactWeights === undefined || this.#exactWeights.length < n) this.#exactWeights = new Float64Array(n);
    const weights = this.#exactWeights;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const weight = Math.exp((logits[i] - max) * inverseTemperature);
      weights[i] = weight;
      total += weight;
    }
    let draw = this.#random.nextFloat() * total;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const weight = weights[i];
      if (weight > 0) last = i;
      draw -= weight;
      if (draw < 0) return i;
    }
    return last;
  }

  /**
   * Puts the `count` largest logits, in descending order (ties: lower id first), at the start of the heap buffers.
   * A min-heap of size `count` scans the row once; then an in-place heap sort orders it.
   */
  #selectTop(logits: Float32Array, count: number): void {
    if (this.#heapValues.length < count) {
      this.#heapValues = new Float32Array(count);
      this.#heapIndices = new Int32Array(count);
      this.#weights = new Float64Array(count);
    }
    const values = this.#heapValues;
    const indices = this.#heapIndices;
    let size = 0;
    const n = logits.length;
    for (let i = 0; i < n; i++) {
      const value = logits[i];
      if (size < count) {
        values[size] = value;
        indices[size] = i;
        size++;
        siftUp(values, indices, size - 1);
      } else if (value > values[0]) {
        values[0] = value;
        indices[0] = i;
        siftDown(values, indices, 0, size);
      }
    }
    // Heap sort: repeatedly move the worst remaining to the end, leaving the best first.
    for (let end = size - 1; end > 0; end--) {
      swap(values, indices, 0, end);
      siftDown(values, indices, 0, end);
    }
  }
}

/** Index of the largest logit (the lowest id among equal ones). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = logits[0];
  for (let i = 1; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

/** Token ids are below 2^21 (2 million): a logit's 32 order bits and the id fit one exactly representable double. */
const ID_RANGE = 2 ** 21;
const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The sub-bucket of a token of bucket `edge` in a crowded boundary bucket's finer histogram. */
function fineBucket(logit: number, max: number, scale: number, edge: number): number {
  return Math.min(FINE_BUCKETS - 1, (((max - logit) * scale - edge) * FINE_BUCKETS) | 0);
}

/** A number that sorts ascending as logits descending, then ids ascending. */
function orderKey(logit: number, id: number): number {
  float32[0] = logit;
  const bits = float32Bits[0];
  // IEEE order as an unsigned integer: flip all bits of negatives, the sign bit of positives.
  const ordered = bits & 0x80000000 ? 0xffffffff - bits : bits + 0x80000000;
  return (0xffffffff - ordered) * ID_RANGE + id;
}

// Heap order: the root is the worst candidate (smallest value; among equal values, the highest id).
function worse(values: Float32Array, indices: Int32Array, a: number, b: number): boolean {
  return values[a] < values[b] || (values[a] === values[b] && indices[a] > indices[b]);
}

function siftUp(values: Float32Array, indices: Int32Array, position: number): void {
  while (position > 0) {
    const parent = (position - 1) >> 1;
    if (!worse(values, indices, position, parent)) return;
    swap(values, indices, position, parent);
    position = parent;
  }
}

function siftDown(values: Float32Array, indices: Int32Array, position: number, size: number): void {
  for (;;) {
    const left = 2 * position + 1;
    if (left >= size) return;
    const right = left + 1;
    let child = left;
    if (right < size && worse(values, indices, right, left)) child = right;
    if (!worse(values, indices, child, position)) return;
    swap(values, indices, position, child);
    position = child;
  }
}

function swap(values: Float32Array, indices: Int32Array, a: number, b: number): void {
  const value = values[a];
  values[a] = values[b];
  values[b] = value;
  const index = indices[a];
  indices[a] = indices[b];
  indices[b] = index;
}

function check(field: string, value: number, valid: (value: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !valid(value)) {
    throw new GenerationError(`Expected \`${field}\` to be ${expected}, got ${String(value)}.`, { details: { field, value } });
  }
  return value;
}

function noCandidate(): GenerationError {
  return new GenerationError('No token can be sampled: every logit is -Infinity (a constraint masked the whole vocabulary?).');
}
