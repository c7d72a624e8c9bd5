import { describe, expect, it } from 'vitest';
import { widenFloat16 } from '../../../src/models/generation/float16';
import { RandomGenerator } from '../../../src/models/generation/random-generator';
import { RepetitionPenalty } from '../../../src/models/generation/repetition-penalty';

describe('RepetitionPenalty', () => {
  it('divides positive and multiplies negative logits of seen tokens only, once per distinct token', () => {
    const penalty = new RepetitionPenalty({ penalty: 2, vocabSize: 5 });
    for (const id of [1, 3, 1, 3, 3]) penalty.observe(id);
    const logits = Float32Array.from([1, 4, 1, -3, 1]);
    penalty.process(logits);
    expect(Array.from(logits)).toEqual([1, 2, 1, -6, 1]);
  });

  it('rejects a non-positive penalty', () => {
    expect(() => new RepetitionPenalty({ penalty: 0, vocabSize: 3 })).toThrow(/repetitionPenalty/);
  });
});

describe('RandomGenerator', () => {
  it('is reproducible for a seed, differs across seeds, and is uniform in [0, 1)', () => {
    const a = new RandomGenerator(7);
    const b = new RandomGenerator(7);
    const c = new RandomGenerator(8);
    const first = Array.from({ length: 5 }, () => a.nextFloat());
    expect(Array.from({ length: 5 }, () => b.nextFloat())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.nextFloat())).not.toEqual(first);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = a.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
    }
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('widenFloat16', () => {
  it('widens half-precision bit patterns', () => {
    const source = Uint16Array.from([0x3c00, 0xc000, 0x0000, 0x7c00, 0xfc00, 0x3555, 0x0001]);
    const target = new Float32Array(source.length);
    widenFloat16(source, target);
    expect(target[0]).toBe(1);
    expect(target[1]).toBe(-2);
    expect(target[2]).toBe(0);
    expect(target[3]).toBe(Infinity);
    expect(target[4]).toBe(-Infinity);
    expect(target[5]).toBeCloseTo(0.33325, 5);
    expect(target[6]).toBeCloseTo(5.96e-8, 10);
  });
});
