/**
 * The vocabulary of a Hugging Face tokenizer.json as XGrammar wants it: every id from 0 to the tokenizer's size in id
 * order, in the tokenizer's own encoding (byte-level, byte-fallback or raw), with the decoding rules detected the way
 * XGrammar's `from_huggingface` does.
 */
import { z } from 'zod';
import { TokenizerError } from '../../errors';

export type VocabularyType = 'byte_level' | 'byte_fallback' | 'raw';

export interface TokenizerVocabulary {
  /** Token strings by id; special tokens (and ids missing from the file) are empty strings, which XGrammar masks. */
  encodedVocabulary: string[];
  vocabularyType: VocabularyType;
  /** The tokenizer prepends a space (sentencepiece "▁") to the text it encodes. */
  prependSpace: boolean;
}

const tokenizerJsonSchema = z.object({
  model: z.object({
    vocab: z.union([z.record(z.string(), z.number().int().nonnegative()), z.array(z.tuple([z.string(), z.number()]))]),
  }),
  added_tokens: z
    .array(z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().optional() }))
    .optional(),
  decoder: z.unknown().optional(),
  normalizer: z.unknown().optional(),
  pre_tokenizer: z.unknown().optional(),
});

type TypedComponent = { type?: unknown; [key: string]: unknown };

/**
 * Reads a tokenizer.json (text or parsed). `keepIds` are ids whose text is kept even if the file marks them special
 * (the stop tokens: XGrammar recognises those by id).
 */
export function readTokenizerVocabulary(
  tokenizerJson: string | object,
  keepIds: readonly number[] = [],
): TokenizerVocabulary {
  let raw: unknown = tokenizerJson;
  if (typeof tokenizerJson === 'string') {
    try {
      raw = JSON.parse(tokenizerJson);
    } catch (error) {
      throw new TokenizerError('tokenizer.json is not valid JSON; pass the file content or the parsed object.', {
        cause: error,
      });
    }
  }
  const parsed = tokenizerJsonSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TokenizerError(
      `tokenizer.json lacks a usable vocabulary (model.vocab / added_tokens): ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  const json = parsed.data;
  const vocabularyType = detectVocabularyType(json.decoder);
  const vocabulary: string[] = [];
  if (Array.isArray(json.model.vocab)) {
    json.model.vocab.forEach(([piece], id) => (vocabulary[id] = piece));
  } else {
    for (const [piece, id] of Object.entries(json.model.vocab)) vocabulary[id] = piece;
  }
  const keep = new Set(keepIds);
  for (const token of json.added_tokens ?? []) {
    // Added tokens are stored as plain text, not in the model's encoding; special ones must never be generated
    // inside constrained output, and an empty string is how XGrammar marks a token as special.
    vocabulary[token.id] =
      token.special === true && !keep.has(token.id) ? '' : encodeAddedToken(token.content, vocabularyType);
  }
  const encodedVocabulary = Array.from(vocabulary, (piece) => piece ?? '');
  return { encodedVocabulary, vocabularyType, prependSpace: detectPrependSpace(json.normalizer, json.pre_tokenizer) };
}

function components(value: unknown, listKey: string): TypedComponent[] {
  if (value === null || typeof value !== 'object') return [];
  const component = value as TypedComponent;
  if (component.type === 'Sequence' && Array.isArray(component[listKey])) return component[listKey] as TypedComponent[];
  return [component];
}

function detectVocabularyType(decoder: unknown): VocabularyType {
  for (const part of components(decoder, 'decoders')) {
    if (part.type === 'ByteLevel') return 'byte_level';
    if (part.type === 'ByteFallback') return 'byte_fallback';
  }
  return 'raw';
}

function detectPrependSpace(normalizer: unknown, preTokenizer: unknown): boolean {
  const prepends = components(normalizer, 'normalizers').some(
    (part) => part.type === 'Prepend' && part.prepend === '\u2581',
  );
  const metaspace = components(preTokenizer, 'pretokenizers').some(
    (part) => part.type === 'Metaspace' && (part.prepend_scheme === 'always' || part.prepend_scheme === 'first'),
  );
  return prepends || metaspace;
}

let byteToCharacter: string[] | undefined;

/** GPT-2's reversible byte-to-printable-character table used by byte-level BPE. */
function byteLevelTable(): string[] {
  if (byteToCharacter) return byteToCharacter;
  const table: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
    table[byte] = String.fromCharCode(printable ? byte : next++);
  }
  byteToCharacter = table;
  return table;
}

function encodeAddedToken(content: string, vocabularyType: VocabularyType): string {
  if (vocabularyType !== 'byte_level') return content;
  const table = byteLevelTable();
  let encoded = '';
  for (const byte of new TextEncoder().encode(content)) encoded += table[byte];
  return encoded;
}
