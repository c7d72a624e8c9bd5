import { describe, expect, it } from 'vitest';
import { GenerationError } from '../../../src/errors';
import { TokenSampler, argmax } from '../../../src/models/generation/token-sampler';

function softmax(logits: number[], temperature = 1): number[] {
  const max = Math.max(...logits);
  const weights = logits.map((l) => Math.exp((l - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

function histogram(sampler: TokenSampler, logits: number[], draws: number): number[] {
  const counts = new Array(logits.length).fill(0);
  const row = new Float32Array(logits.length);
  for (let i = 0; i < draws; i++) {
    row.set(logits);
    counts[sampler.sample(row)]++;
  }
  return counts.map((c) => c / draws);
}

describe('TokenSampler', () => {
  it('temperature 0 is argmax, lowest id on ties', () => {
    const sampler = new TokenSampler({ vocabSize: 5, temperature: 0 });
    expect(sampler.sample(Float32Array.from([0.1, 3, -1, 3, 2]))).toBe(1);
    expect(argmax(Float32Array.from([-Infinity, -5, -Infinity]))).toBe(1);
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const logits = [1, 2, 0.5, 3];
    const frequencies = histogram(new TokenSampler({ vocabSize: 4, temperature: 0.7, seed: 1 }), logits, 20000);
    const expected = softmax(logits, 0.7);
    for (let i = 0; i < logits.length; i++) expect(Math.abs(frequencies[i] - expected[i])).toBeLessThan(0.015);
  });

  it('top-k keeps only the k best tokens', () => {
    const logits = [5, 4.9, 4.8, 0, 4.7, -2];
    const frequencies = histogram(new TokenSampler({ vocabSize: 6, temperature: 1, topK: 2, seed: 2 }), logits, 5000);
    expect(frequencies[2] + frequencies[3] + frequencies[4] + frequencies[5]).toBe(0);
    const expected = softmax([5, 4.9]);
    expect(Math.abs(frequencies[0] - expected[0])).toBeLessThan(0.03);
  });

  it('top-p keeps the smallest set reaching the mass p, renormalised', () => {
    // probabilities ~ 0.5, 0.25, 0.125, 0.0625, ... : p = 0.7 keeps the first two.
    const logits = Array.from({ length: 10 }, (_, i) => -i * Math.LN2);
    const frequencies = histogram(new TokenSampler({ vocabSize: 10, temperature: 1, topP: 0.7, seed: 3 }), logits, 6000);
    expect(frequencies.slice(2).reduce((a, b) => a + b, 0)).toBe(0);
    expect(Math.abs(frequencies[0] - 2 / 3)).toBeLessThan(0.03);
  });

  it('top-p on a nearly flat large vocabulary keeps the right half (wide nucleus path)', () => {
    const vocabSize = 150_000;
    const logits = new Float32Array(vocabSize);
    const fill = () => {
      for (let i = 0; i < vocabSize; i++) logits[i] = -i * 1e-6; // nearly flat, strictly decreasing with the id
    };
    const sampler = new TokenSampler({ vocabSize, temperature: 1, topP: 0.5, seed: 4 });
    const seen = new Set<number>();
    for (let i = 0; i < 15; i++) {
      fill();
      const id = sampler.sample(logits);
      // The nucleus of p = 0.5 is the ~75k highest logits, i.e. the lower ids (a little over half, as they weigh more).
      expect(id).toBeLessThan(76_000);
      seen.add(id);
    }
    expect(seen.size).toBeGreaterThan(12);
    expect(Math.max(...seen)).toBeGreaterThan(30_000);
  });

  it('top-p orders near-equal logits that share a histogram bucket exactly (logit, then id)', () => {
    // Weights ~1, 0.999, 0.998, 0.997 (one bucket): p = 0.45 needs the first two; ids 2 and 3 never.
    const logits = [-0.002, 0, -0.003, -0.001];
    const frequencies = histogram(new TokenSampler({ vocabSize: 4, temperature: 1, topP: 0.45, seed: 7 }), logits, 4000);
    expect(frequencies[0] + frequencies[2]).toBe(0);
    expect(Math.abs(frequencies[1] - 0.5)).toBeLessThan(0.04);
  });

  it('top-p keeps exactly the smallest set by descending logit on a random 5,000-token row', () => {
    let state = 11;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const logits = Array.from({ length: 5000 }, () => Math.fround(random() * 12));
    const temperature = 0.7;
    const topP = 0.8;
    const order = logits.map((logit, id) => ({ logit, id })).sort((a, b) => b.logit - a.logit || a.id - b.id);
    const max = order[0]!.logit;
    const weight = (logit: number) => Math.exp((logit - max) / temperature);
    const total = logits.reduce((sum, logit) => sum + weight(logit), 0);
    const kept = new Set<number>();
    let cumulative = 0;
    for (const { logit, id } of order) {
      kept.add(id);
      cumulative += weight(logit);
      if (cumulative >= topP * total) break;
    }
    const frequencies = histogram(new TokenSampler({ vocabSize: 5000, temperature, topP, seed: 8 }), logits, 20000);
    let keptFrequency = 0;
    frequencies.forEach((frequency, id) => {
      if (!kept.has(id)) expect(frequency).toBe(0);
      else keptFrequency += frequency;
    });
    expect(keptFrequency).toBeCloseTo(1, 9);
    // The best token's share: its weight over the kept mass.
    expect(Math.abs(frequencies[order[0]!.id] - 1 / cumulative)).toBeLessThan(0.01);
    // The last kept token (the one that crosses p) is reachable.
    expect(kept.size).toBeGreaterThan(5);
  });

  it('top-k and top-p together', () => {
    const logits = [3, 2.9, 2.8, 2.7, -5];
    const frequencies = histogram(new TokenSampler({ vocabSize: 5, temperature: 1, topK: 3, topP: 0.5, seed: 5 }), logits, 4000);
    expect(frequencies[3] + frequencies[4]).toBe(0);
    expect(frequencies[0]).toBeGreaterThan(0);
    expect(frequencies[1]).toBeGreaterThan(0);
  });

  it('never picks a masked (-Infinity) token', () => {
    const logits = [0, -Infinity, 0, -Infinity];
    const frequencies = histogram(new TokenSampler({ vocabSize: 4, temperature: 1.5, topP: 0.99, seed: 6 }), logits, 2000);
    expect(frequencies[1] + frequencies[3]).toBe(0);
  });

  it('the same seed reproduces the same draws; another seed differs', () => {
    const logits = Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const run = (seed: number) => {
      const sampler = new TokenSampler({ vocabSize: 50, temperature: 1, seed });
      return Array.from({ length: 40 }, () => sampler.sample(Float32Array.from(logits)));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('rejects bad options and fully masked rows with GenerationError', () => {
    expect(() => new TokenSampler({ vocabSize: 4, temperature: -1 })).toThrow(GenerationError);
    expect(() => new TokenSampler({ vocabSize: 4, topP: 0 })).toThrow(/topP/);
    expect(() => new TokenSampler({ vocabSize: 4, topK: 1.5 })).toThrow(/topK/);
    const sampler = new TokenSampler({ vocabSize: 2, temperature: 1, seed: 1 });
    expect(() => sampler.sample(Float32Array.from([-Infinity, -Infinity]))).toThrow(GenerationError);
  });
});
