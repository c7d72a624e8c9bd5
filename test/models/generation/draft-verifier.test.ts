import { describe, expect, it } from 'vitest';
import { DraftVerifier } from '../../../src/models/generation/draft-verifier';
import { PromptLookupDrafter } from '../../../src/models/generation/prompt-lookup-drafter';
import { TokenSampler } from '../../../src/models/generation/token-sampler';

const logits = [2, 1.5, 0.5, 0, -1, -Infinity];

/** softmax(logits / temperature) restricted to the k best, then to the top-p nucleus, normalised. */
function target(temperature: number, topK: number, topP: number): number[] {
  const order = logits.map((_, id) => id).sort((a, b) => logits[b]! - logits[a]!);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const weights = kept.map((id) => Math.exp(logits[id]! / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  let keep = kept.length;
  for (let i = 0; i < kept.length; i++) {
    cumulative += weights[i]!;
    if (cumulative >= topP * total) {
      keep = i + 1;
      break;
    }
  }
  const keptTotal = weights.slice(0, keep).reduce((a, b) => a + b, 0);
  const p = logits.map(() => 0);
  for (let i = 0; i < keep; i++) p[kept[i]!] = weights[i]! / keptTotal;
  return p;
}

describe('DraftVerifier', () => {
  it('greedy: the draft stands only when it is the argmax, and the argmax replaces it otherwise', () => {
    const verifier = new DraftVerifier(new TokenSampler({ vocabSize: logits.length }));
    expect(verifier.verify(Float32Array.from(logits), 0)).toBe(0);
    expect(verifier.verify(Float32Array.from(logits), 3)).toBe(0);
  });

  it('sampling: the emitted token follows the target distribution whatever the draft (speculative acceptance)', () => {
    const draws = 40_000;
    for (const [temperature, topK, topP] of [
      [1, 0, 1],
      [0.7, 3, 1],
      [1.3, 0, 0.8],
    ] as const) {
      const expected = target(temperature, topK, topP);
      for (const draft of [0, 2, 5]) {
        const verifier = new DraftVerifier(new TokenSampler({ vocabSize: logits.length, temperature, topK, topP, seed: draft + 1 }));
        const counts = logits.map(() => 0);
        let accepted = 0;
        for (let i = 0; i < draws; i++) {
          const id = verifier.verify(Float32Array.from(logits), draft);
          counts[id]!++;
          if (id === draft) accepted++;
        }
        counts.forEach((count, id) => expect(Math.abs(count / draws - expected[id]!)).toBeLessThan(0.01));
        // Accepted with probability p(draft): a masked draft (-Infinity) never.
        expect(Math.abs(accepted / draws - expected[draft]!)).toBeLessThan(0.01);
      }
    }
  });
});

describe('PromptLookupDrafter', () => {
  const drafter = new PromptLookupDrafter();

  it('proposes what followed the most recent earlier occurrence of the longest matching n-gram', () => {
    // ... 7 8 9 [1 2] ... 4 5 [1 2] 6 ... then the sequence ends with 1 2: the nearest match (followed by 6, 3) wins.
    const promptIds = [7, 8, 1, 2, 9, 9, 4, 5, 1, 2, 6, 3];
    expect(drafter.propose({ promptIds, generatedIds: [1, 2], maxTokens: 3 })).toEqual([6, 3, 1]);
    // A trigram beats a bigram: 5 1 2 occurs once.
    expect(drafter.propose({ promptIds, generatedIds: [5, 1, 2], maxTokens: 2 })).toEqual([6, 3]);
    expect(drafter.propose({ promptIds, generatedIds: [6], maxTokens: 2 })).toEqual([3, 6]);
  });

  it('proposes nothing without a match, and never more than maxTokens', () => {
    expect(drafter.propose({ promptIds: [1, 2, 3], generatedIds: [42], maxTokens: 4 })).toEqual([]);
    expect(drafter.propose({ promptIds: [], generatedIds: [1], maxTokens: 4 })).toEqual([]);
    expect(drafter.propose({ promptIds: [1, 2, 3, 4, 5, 1], generatedIds: [], maxTokens: 2 })).toEqual([2, 3]);
    expect(new PromptLookupDrafter({ maxNgram: 2, minNgram: 2 }).propose({ promptIds: [1, 2, 3, 9, 2], generatedIds: [], maxTokens: 2 })).toEqual([]);
  });
});
