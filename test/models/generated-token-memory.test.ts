import { describe, expect, it } from 'vitest';
import { GeneratedTokenMemory, type GeneratedTokenMemoryOptions } from '../../src/models/generated-token-memory';

// A toy vocabulary where "ledger" has two splits: the canonical l|ed|g|er and the generated l|e|d|g|e|r.
const vocabulary: Record<number, string> = {
  1: 'l', 2: 'e', 3: 'd', 4: 'g', 5: 'r', 6: 'ed', 7: 'er', 8: '\n', 9: '{', 10: '}', 11: ' ', 12: 'x',
  100: '<|assistant|>', 101: '<|observation|>', 102: '<|user|>', 103: '<|endoftext|>',
};
const decode = (ids: readonly number[]) => ids.map((id) => vocabulary[id]).join('');
const memory = (capacity?: number, capacityTokens?: number, options: Partial<GeneratedTokenMemoryOptions> = {}) =>
  new GeneratedTokenMemory({
    decode,
    assistantTokenId: 100,
    specialTokenIds: new Set([100, 101, 102, 103]),
    stopTokenIds: [101, 102, 103],
    ...(capacity === undefined ? {} : { capacity }),
    ...(capacityTokens === undefined ? {} : { capacityTokens }),
    ...options,
  });

const canonicalCall = [1, 6, 4, 7, 8, 9, 10]; // "ledger\n{}"
const generatedCall = [1, 2, 3, 4, 2, 5, 8, 9, 10, 101]; // the same text, then the stop token <|observation|>

describe('GeneratedTokenMemory', () => {
  it('replaces an assistant content equal to a generation with the generated ids, and nothing else', () => {
    const store = memory();
    store.remember(generatedCall, [102, 1, 6, 100]);
    const prompt = [102, 1, 6, 100, ...canonicalCall, 101, 8, 9, 10, 100];
    const spliced = store.splice(prompt);
    expect(spliced).toEqual([102, 1, 6, 100, ...generatedCall, 8, 9, 10, 100]);
    expect(decode(spliced)).toBe(decode(prompt));
  });

  it('uses the start of a generation when the content is a prefix of it at a token boundary', () => {
    const store = memory();
    store.remember([1, 2, 3, 4, 2, 5, 8, 9, 10, 11, 11], [100]); // trailing spaces the renderer trimmed
    expect(store.splice([100, ...canonicalCall, 101])).toEqual([100, 1, 2, 3, 4, 2, 5, 8, 9, 10, 101]);
  });

  it('leaves the prompt as is when no content matches, and outside assistant messages', () => {
    const store = memory();
    store.remember(generatedCall, [100]);
    const userOnly = [102, ...canonicalCall, 100];
    expect(store.splice(userOnly)).toBe(userOnly);
    const other = [100, 1, 6, 4, 7, 8, 9, 12, 10, 101];
    expect(store.splice(other)).toBe(other);
  });

  it('forgets the oldest generation beyond its capacity and ignores stop-only or special-token outputs', () => {
    const store = memory(2);
    store.remember(generatedCall, [100]);
    store.remember([12, 101], [100]);
    store.remember([12, 12], [100]);
    expect(store.size).toBe(2);
    expect(store.splice([100, ...canonicalCall])).toEqual([100, ...canonicalCall]);
    store.remember([101], [100]);
    store.remember([12, 100, 12], [100]);
    expect(store.size).toBe(2);
  });

  it('splices a generation only into prompts that continue the prompt it came from', () => {
    const store = memory();
    store.remember(generatedCall, [102, 12, 100]); // conversation A asked "x"
    const promptA = [102, 12, 100, ...canonicalCall, 101];
    const promptB = [102, 1, 100, ...canonicalCall, 101]; // conversation B asked "l": same assistant text, not its ids
    expect(store.splice(promptA)).toEqual([102, 12, 100, ...generatedCall]);
    expect(store.splice(promptB)).toBe(promptB);
    // A later turn of A: the second assistant message is looked up under the spliced prefix before it.
    const secondTurn = [8, 9, 10, 101];
    store.remember(secondTurn, [102, 12, 100, ...generatedCall, 102, 12, 100]);
    const later = [102, 12, 100, ...canonicalCall, 101, 102, 12, 100, 8, 9, 10, 101];
    expect(store.splice(later)).toEqual([102, 12, 100, ...generatedCall, 102, 12, 100, ...secondTurn]);
  });

  it('keeps every conversation of a load beyond the old 32 entries, and forgets by use within its token bound', () => {
    const store = memory();
    const prompts = Array.from({ length: 200 }, (_, index) => [102, 1000 + index, 100]);
    for (const prompt of prompts) store.remember(generatedCall, prompt);
    for (const prompt of prompts) expect(store.splice([...prompt, ...canonicalCall])).toEqual([...prompt, ...generatedCall.slice(0, -1)]);

    const small = memory(undefined, 20); // room for two 9-id generations
    small.remember(generatedCall, [1, 100]);
    small.remember(generatedCall, [2, 100]);
    expect(small.splice([1, 100, ...canonicalCall])).not.toEqual([1, 100, ...canonicalCall]); // [1] is now the most recent
    small.remember(generatedCall, [3, 100]);
    expect(small.size).toBe(2);
    expect(small.splice([2, 100, ...canonicalCall])).toEqual([2, 100, ...canonicalCall]);
    expect(small.splice([1, 100, ...canonicalCall])).toEqual([1, 100, ...generatedCall.slice(0, -1)]);
  });

  it("splices the model's own ids where the template renders a recorded call differently, unless history is 'template'", () => {
    // GLM-4-0414 renders the call as "ledger \n{}"; the model wrote "ledger\n{}".
    const rendered = [1, 6, 4, 7, 11, 8, 9, 10];
    const recordedCallText = (text: string) => (text.includes(' \n') ? text.replace(' \n', '\n') : undefined);
    const prompt = [102, 12, 100];
    const generatedStore = memory(undefined, undefined, { recordedCallText });
    generatedStore.remember(generatedCall, prompt);
    expect(generatedStore.splice([...prompt, ...rendered, 101])).toEqual([...prompt, ...generatedCall]);
    const templateStore = memory(undefined, undefined, { recordedCallText, history: 'template' });
    templateStore.remember(generatedCall, prompt);
    const asRendered = [...prompt, ...rendered, 101];
    expect(templateStore.splice(asRendered)).toBe(asRendered);
    expect(templateStore.splice([...prompt, ...canonicalCall, 101])).toEqual([...prompt, ...generatedCall]); // equal texts still
  });

  it("skips the generation prompt's own text (contentPrefix) at the start of a rendered assistant message", () => {
    const store = memory(undefined, undefined, { contentPrefix: '\n' }); // GLM-Edge: "<|assistant|>\n"
    const prompt = [102, 12, 100, 8];
    store.remember(generatedCall, prompt);
    expect(store.splice([...prompt, ...canonicalCall, 101])).toEqual([...prompt, ...generatedCall]);
  });

  it('remembers several calls of one turn one at a time, each under the ids before it, and a repeated call per occurrence', () => {
    const store = memory();
    const first = [1, 2, 3, 4, 2, 5, 8, 9, 10]; // l|e|d|g|e|r
    const second = [1, 6, 4, 2, 5, 8, 9, 10]; // l|ed|g|e|r: the same text, another split
    const prompt = [102, 12, 100];
    store.remember([...first, 100, ...second, 101], prompt);
    expect(store.size).toBe(2);
    const turn = [...prompt, ...canonicalCall, 100, ...canonicalCall, 101, 8, 101];
    expect(store.splice(turn)).toEqual([...prompt, ...first, 100, ...second, 101, 8, 101]);

    // The same call again in a later turn: it was generated after other ids, so it gets its own.
    const later = [1, 2, 3, 4, 7, 8, 9, 10]; // l|e|d|g|er
    store.remember([...later, 101], [...prompt, ...first, 100, ...second, 101, 8, 101, 100]);
    const next = [...turn, 100, ...canonicalCall, 101];
    expect(store.splice(next)).toEqual([...prompt, ...first, 100, ...second, 101, 8, 101, 100, ...later, 101]);
    // Alone, neither the second call nor the later one matches: their prefixes differ.
    const alone = [...prompt, ...canonicalCall, 101, 8, 101, 100, ...canonicalCall, 101];
    expect(store.splice(alone)).toEqual([...prompt, ...first, 101, 8, 101, 100, ...canonicalCall, 101]);
  });
});
