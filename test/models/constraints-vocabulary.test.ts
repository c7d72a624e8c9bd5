/**
 * Reading a tokenizer.json into XGrammar's encoded vocabulary: vocabulary types, added tokens, gaps, and a
 * sentencepiece-style (byte-fallback, Unigram) tokenizer used end to end.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import { readTokenizerVocabulary } from '../../src/models/constraints/tokenizer-vocabulary';

const hexBytes = Array.from({ length: 256 }, (_, byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
/** A Unigram tokenizer as sentencepiece models ship it: <unk>, <s>, </s>, the 256 byte pieces, then words. */
const sentencepiece = {
  model: {
    type: 'Unigram',
    vocab: [['<unk>', 0], ['<s>', 0], ['</s>', 0], ...hexBytes.map((piece) => [piece, 0]), ['\u2581city', -1], ['"', -2], ['{', -2], ['}', -2], [':', -2]],
  },
  added_tokens: [
    { id: 0, content: '<unk>', special: true },
    { id: 1, content: '<s>', special: true },
    { id: 2, content: '</s>', special: true },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true },
  decoder: {
    type: 'Sequence',
    decoders: [{ type: 'Replace' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', start: 1 }],
  },
};

describe('readTokenizerVocabulary', () => {
  it('detects byte-fallback and the prepended space, keeps stop tokens, blanks other special tokens', () => {
    const vocabulary = readTokenizerVocabulary(sentencepiece, [2]);
    expect(vocabulary.vocabularyType).toBe('byte_fallback');
    expect(vocabulary.prependSpace).toBe(true);
    expect(vocabulary.encodedVocabulary).toHaveLength(3 + 256 + 5);
    expect(vocabulary.encodedVocabulary.slice(0, 4)).toEqual(['', '', '</s>', '<0x00>']);
    expect(vocabulary.encodedVocabulary[259]).toBe('\u2581city');
  });

  it('byte-level: ids in order with gaps blank, added tokens re-encoded, special ones blank', () => {
    const vocabulary = readTokenizerVocabulary(
      JSON.stringify({
        model: { type: 'BPE', vocab: { a: 0, '\u0120b': 1, c: 3 } },
        added_tokens: [
          { id: 4, content: '<|user|>', special: true },
          { id: 5, content: ' é\n', special: false },
        ],
        decoder: { type: 'ByteLevel' },
        pre_tokenizer: { type: 'ByteLevel' },
      }),
    );
    expect(vocabulary.vocabularyType).toBe('byte_level');
    expect(vocabulary.prependSpace).toBe(false);
    // ' ' -> Ġ, 'é' (C3 A9) -> Ã ©, '\n' -> Ċ
    expect(vocabulary.encodedVocabulary).toEqual(['a', '\u0120b', '', 'c', '', '\u0120\u00c3\u00a9\u010a']);
    expect(readTokenizerVocabulary({ model: { vocab: { x: 0 } } }).vocabularyType).toBe('raw');
  });

  it('a byte-fallback tokenizer constrains output end to end', async () => {
    const compiler = await GrammarCompiler.fromTokenizerJson(sentencepiece, { vocabSize: 300, stopTokenIds: [2] });
    const schema = z.object({ city: z.string() });
    const constraint = await compiler.createConstraint({ schema });
    // Ids: 3 + byte for the byte pieces, 259 "▁city", 260 '"', 261 '{', 262 '}', 263 ':'.
    const byte = (text: string) => [...text].map((char) => 3 + char.charCodeAt(0));
    // {"city": " city"}: "city" from byte pieces, the key's space as a byte piece, "▁city" for " city".
    const ids = [261, 260, ...byte('city'), 260, 263, ...byte(' '), 260, 259, 260, 262];
    expect(ids.every((id) => constraint.acceptToken(id))).toBe(true);
    expect(constraint.isTerminated()).toBe(true);
    expect(constraint.acceptToken(2)).toBe(true);
    const other = await compiler.createConstraint({ schema });
    // A number where the string goes: rejected.
    expect([261, 260, ...byte('city'), 260, 263, ...byte(' 1')].every((id) => other.acceptToken(id))).toBe(false);
    other.dispose();
    constraint.dispose();
    compiler.dispose();
  });
});
