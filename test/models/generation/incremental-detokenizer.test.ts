import { describe, expect, it } from 'vitest';
import { IncrementalDetokenizer } from '../../../src/models/generation/incremental-detokenizer';

// A byte-level toy vocabulary: each id is one byte; decoding replaces incomplete UTF-8 with U+FFFD, as
// byte-level BPE decoders do.
const decoder = new TextDecoder('utf-8');
const decodeBytes = (ids: readonly number[]) => decoder.decode(Uint8Array.from(ids));

describe('IncrementalDetokenizer', () => {
  it('never emits half a multi-byte character', () => {
    const text = 'añ€😀z';
    const bytes = Array.from(new TextEncoder().encode(text));
    const detokenizer = new IncrementalDetokenizer(decodeBytes);
    const pieces = bytes.map((b) => detokenizer.push(b));
    for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
    expect(pieces.join('') + detokenizer.flush()).toBe(text);
    expect(pieces.filter((p) => p === '').length).toBe(1 + 2 + 3); // continuation bytes wait
  });

  it('matches decoding the whole sequence for a long text (window slides)', () => {
    const text = 'The quick brown fox — jumps over the lazy dog. Ünïcödé ✓ '.repeat(5);
    const detokenizer = new IncrementalDetokenizer(decodeBytes);
    let out = '';
    for (const b of new TextEncoder().encode(text)) out += detokenizer.push(b);
    expect(out + detokenizer.flush()).toBe(text);
  });

  it('flushes a truly incomplete trailing character as U+FFFD', () => {
    const detokenizer = new IncrementalDetokenizer(decodeBytes);
    expect(detokenizer.push(0x61)).toBe('a');
    expect(detokenizer.push(0xe2)).toBe('');
    expect(detokenizer.flush()).toBe('\uFFFD');
  });
});
