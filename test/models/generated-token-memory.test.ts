import { describe, expect, it } from 'vitest';
import { GeneratedTokenMemory } from '../../src/models/generated-token-memory';

// A toy vocabulary where "ledger" has two splits: the canonical l|ed|g|er and the generated l|e|d|g|e|r.
const vocabulary: Record<number, string> = {
  1: 'l', 2: 'e', 3: 'd', 4: 'g', 5: 'r', 6: 'ed', 7: 'er', 8: '\n', 9: '{', 10: '}', 11: ' ', 12: 'x',
  100: '<|assistant|>', 101: '<|observation|>', 102: '<|user|>', 103: '<|endoftext|>',
};
const decode = (ids: readonly number[]) => ids.map((id) => vocabulary[id]).join('');
const memory = (capacity?: number) =>
  new GeneratedTokenMemory({
    decode,
    assistantTokenId: 100,
    specialTokenIds: new Set([100, 101, 102, 103]),
    stopTokenIds: [101, 102, 103],
    ...(capacity === undefined ? {} : { capacity }),
  });

const canonicalCall = [1, 6, 4, 7, 8, 9, 10]; // "ledger\n{}"
const generatedCall = [1, 2, 3, 4, 2, 5, 8, 9, 10, 101]; // the same text, then the stop token <|observation|>

describe('GeneratedTokenMemory', () => {
  it('replaces an assistant content equal to a generation with the generated ids, and nothing else', () => {
    const store = memory();
    store.remember(generatedCall);
    const prompt = [102, 1, 6, 100, ...canonicalCall, 101, 8, 9, 10, 100];
    const spliced = store.splice(prompt);
    expect(spliced).toEqual([102, 1, 6, 100, ...generatedCall, 8, 9, 10, 100]);
    expect(decode(spliced)).toBe(decode(prompt));
  });

  it('uses the start of a generation when the content is a prefix of it at a token boundary', () => {
    const store = memory();
    store.remember([1, 2, 3, 4, 2, 5, 8, 9, 10, 11, 11]); // trailing spaces the renderer trimmed
    expect(store.splice([100, ...canonicalCall, 101])).toEqual([100, 1, 2, 3, 4, 2, 5, 8, 9, 10, 101]);
  });

  it('leaves the prompt as is when no content matches, and outside assistant messages', () => {
    const store = memory();
    store.remember(generatedCall);
    const userOnly = [102, ...canonicalCall, 100];
    expect(store.splice(userOnly)).toBe(userOnly);
    const other = [100, 1, 6, 4, 7, 8, 9, 12, 10, 101];
    expect(store.splice(other)).toBe(other);
  });

  it('forgets the oldest generation beyond its capacity and ignores stop-only or special-token outputs', () => {
    const store = memory(2);
    store.remember(generatedCall);
    store.remember([12, 101]);
    store.remember([12, 12]);
    expect(store.size).toBe(2);
    expect(store.splice([100, ...canonicalCall])).toEqual([100, ...canonicalCall]);
    store.remember([101]);
    store.remember([12, 100, 12]);
    expect(store.size).toBe(2);
  });
});
