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

/** Candidates looked at first when only top-p is set; grown sixteenfold while the nucleus is larger. */
const INITIAL_NUCLEUS_CANDIDATES = 64;
/** Past this many candidates, a wide nucleus is found by bisecting a weight threshold instead of a heap. */
const MAX_HEAP_CANDIDATES = 1024;
/** Bisection steps of the threshold search (the threshold's precision is 2^-steps of the weight range). */
const THRESHOLD_STEPS = 40;

/**
 * Picks the next token from a row of logits: greedy, or temperature sampling restricted by top-k and top-p. The
 * candidates are found by partial selection (a bounded heap), never by sorting the whole vocabulary, and all
 * buffers are allocated once per sampler, not per step.
 */
export class TokenSampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  #random: RandomGenerator;
  #heapValues: Float32Array;
  #heapIndices: Int32Array;
  #weights: Float64Array;
  /** Weights of the whole row, only for nearly flat distributions (allocated on first need). */
  #allWeights: Float32Array | undefined;

  constructor(options: TokenSamplerOptions) {
    this.temperature = check('temperature', options.temperature ?? 0, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
    this.topK = check('topK', options.topK ?? 0, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
    this.topP = check('topP', options.topP ?? 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    this.#random = new RandomGenerator(options.seed);
    const capacity = Math.min(options.vocabSize, this.topK > 0 ? this.topK : INITIAL_NUCLEUS_CANDIDATES);
    this.#heapValues = new Float32Array(capacity);
    this.#heapIndices = new Int32Array(capacity);
    this.#weights = new Float64Array(capacity);
  }

  /** The next token id. `logits` may be modified (scaled) in place. */
  sample(logits: Float32Array): number {
    if (this.temperature === 0) return argmax(logits);
    const n = logits.length;
    const inverseTemperature = 1 / this.temperature;
    if ((this.topK === 0 || this.topK >= n) && this.topP >= 1) return this.#sampleAll(logits, inverseTemperature);

    const max = logits[argmax(logits)];
    let total = 0;
    if (this.topK === 0) {
      // The nucleus is measured against the mass of the whole vocabulary.
      for (let i = 0; i < n; i++) total += Math.exp((logits[i] - max) * inverseTemperature);
    }
    let candidates = this.topK > 0 ? Math.min(this.topK, n) : Math.min(INITIAL_NUCLEUS_CANDIDATES, n);
    for (;;) {
      this.#selectTop(logits, candidates);
      const weights = this.#weights;
      let candidateMass = 0;
      for (let i = 0; i < candidates; i++) {
        const weight = Math.exp((this.#heapValues[i] - max) * inverseTemperature);
        weights[i] = weight;
        candidateMass += weight;
      }
      if (this.topK > 0) total = candidateMass;
      let keep = candidates;
      if (this.topP < 1) {
        const target = this.topP * total;
        let cumulative = 0;
        keep = -1;
        for (let i = 0; i < candidates; i++) {
          cumulative += weights[i];
          if (cumulative >= target) {
            keep = i + 1;
            break;
          }
        }
        if (keep === -1) {
          if (candidates < n && this.topK === 0) {
            candidates = Math.min(candidates * 16, n);
            if (candidates > MAX_HEAP_CANDIDATES) return this.#sampleWideNucleus(logits, max, inverseTemperature, this.topP * total);
            continue;
          }
          keep = candidates;
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
  }

  /**
   * A nucleus too wide for the heap (a nearly flat distribution): the kept set is every token whose weight is at
   * least a threshold, the highest threshold whose kept mass still reaches `target`, found by bisection over a
   * buffer of weights (linear passes, no sort). Tokens tied at the threshold are all kept.
   */
  #sampleWideNucleus(logits: Float32Array, max: number, inverseTemperature: number, target: number): number {
    const n = logits.length;
    if (this.#allWeights === undefined || this.#allWeights.length < n) this.#allWeights = new Float32Array(n);
    const weights = this.#allWeights;
    for (let i = 0; i < n; i++) weights[i] = Math.exp((logits[i] - max) * inverseTemperature);
    let low = 0; // mass(>= low) >= target always holds
    let high = 1.0000001; // above the largest weight (1): nothing kept
    for (let step = 0; step < THRESHOLD_STEPS; step++) {
      const middle = (low + high) / 2;
      let mass = 0;
      for (let i = 0; i < n; i++) if (weights[i] >= middle) mass += weights[i];
      if (mass >= target) low = middle;
      else high = middle;
    }
    let kept = 0;
    for (let i = 0; i < n; i++) if (weights[i] >= low) kept += weights[i];
    let draw = this.#random.nextFloat() * kept;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const weight = weights[i];
      if (weight < low) continue;
      last = i;
      draw -= weight;
      if (draw < 0) return i;
    }
    return last;
  }

  #sampleAll(logits: Float32Array, inverseTemperature: number): number {
    const n = logits.length;
    const max = logits[argmax(logits)];
    if (max === -Infinity) throw noCandidate();
    let total = 0;
    for (let i = 0; i < n; i++) total += Math.exp((logits[i] - max) * inverseTemperature);
    let draw = this.#random.nextFloat() * total;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const weight = Math.exp((logits[i] - max) * inverseTemperature);
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
