/**
 * Speculative acceptance of one draft token against the target model's row of logits (already through the
 * logits processors and the grammar mask). Greedy: the draft stands when it is the argmax, so the output is the
 * plain greedy output. Sampling: a drafter proposes one token deterministically (its distribution q is a point
 * mass), so the standard rule accept-with-min(1, p/q) accepts the draft t with probability p(t), and a rejection
 * samples from the residual max(0, p - q) normalised: p without t. The emitted token is then distributed exactly
 * as p (Leviathan et al. 2023, Chen et al. 2023), where p is the sampler's target: softmax at the temperature,
 * restricted to top-k, then to the top-p nucleus.
 */
import { GenerationError } from '../../errors';
import { argmax, type TokenSampler } from './token-sampler';

/** Tokens weighing under this fraction of the best one never enter the target (as the sampler's nucleus, 2^-40). */
const NEGLIGIBLE_WEIGHT = 2 ** -40;

export class DraftVerifier {
  readonly #sampler: TokenSampler;
  /** Candidate ids of the current row, ordered by logit (descending), then id. */
  #ids = new Int32Array(0);
  #weights = new Float64Array(0);

  constructor(sampler: TokenSampler) {
    this.#sampler = sampler;
  }

  /** The token emitted at this position: `draft` when it is accepted, otherwise a token drawn as above (never `draft`). */
  verify(row: Float32Array, draft: number): number {
    const sampler = this.#sampler;
    if (sampler.temperature === 0) return argmax(row);
    const count = this.#target(row);
    let total = 0;
    let draftWeight = 0;
    for (let i = 0; i < count; i++) {
      total += this.#weights[i]!;
      if (this.#ids[i] === draft) draftWeight = this.#weights[i]!;
    }
    if (sampler.nextRandom() * total < draftWeight) return draft;
    let draw = sampler.nextRandom() * (total - draftWeight);
    let last = -1;
    for (let i = 0; i < count; i++) {
      const id = this.#ids[i]!;
      if (id === draft) continue;
      last = id;
      draw -= this.#weights[i]!;
      if (draw < 0) return id;
    }
    if (last === -1) throw new GenerationError('No token can be sampled: the draft was rejected and nothing else is allowed.');
    return last;
  }

  /** Puts the target's candidates (ids and unnormalised weights, best first) in the buffers; returns their count. */
  #target(row: Float32Array): number {
    const { temperature, topK, topP } = this.#sampler;
    const n = row.length;
    if (this.#ids.length < n) {
      this.#ids = new Int32Array(n);
      this.#weights = new Float64Array(n);
    }
    const max = row[argmax(row)]!;
    if (!(max > -Infinity)) throw new GenerationError('No token can be sampled: every logit is -Infinity (a constraint masked the whole vocabulary?).');
    const floor = max + Math.log(NEGLIGIBLE_WEIGHT) * temperature;
    let count = 0;
    for (let id = 0; id < n; id++) if (row[id]! >= floor) this.#ids[count++] = id;
    const ids = this.#ids.subarray(0, count);
    ids.sort((a, b) => row[b]! - row[a]! || a - b);
    if (topK > 0 && topK < count) count = topK;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const weight = Math.exp((row[this.#ids[i]!]! - max) / temperature);
      this.#weights[i] = weight;
      total += weight;
    }
    if (topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < count; i++) {
        cumulative += this.#weights[i]!;
        if (cumulative >= topP * total) return i + 1;
      }
    }
    return count;
  }
}
