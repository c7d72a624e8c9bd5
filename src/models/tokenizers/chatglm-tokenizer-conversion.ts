/**
 * ChatGLM3's tokenizer (remote code `ChatGLMTokenizer` over a SentencePiece `tokenizer.model`) as a Hugging Face
 * tokenizer.json + tokenizer_config.json, so the one tokenizer path of this runtime (transformers.js, grammar
 * vocabularies) serves it unchanged. Facts from THUDM/chatglm3-6b's tokenization_chatglm.py: the SentencePiece
 * vocabulary keeps its ids; nine special tokens follow it, in this order, from id = the model's piece count
 * (64789.. in ChatGLM3: `[gMASK]` 64790, `sop` 64792, `<|user|>` 64795, `<|observation|>` 64797); plain text is encoded
 * by SentencePiece alone, so the special tokens never come out of text there.
 *
 * The bracketed ones become added tokens (as GLM-4-9B-chat-hf's tokenizer.json has them); `sop` and `eop` are plain
 * words inside ordinary text ("sophisticated", "people"), so they go into the vocabulary without merges instead:
 * decodable by id, never produced from text.
 */
import { TokenizerError } from '../../errors';
import { readSentencePieceModel } from './sentencepiece-model';
import { sentencePieceToTokenizerJson, type AddedToken } from './sentencepiece-tokenizer-json';

/** ChatGLM3's special tokens in id order after the SentencePiece vocabulary (tokenization_chatglm.py). */
export const CHATGLM3_SPECIAL_TOKENS = ['[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop', '<|system|>', '<|user|>', '<|assistant|>', '<|observation|>'] as const;

export type ChatGlm3SpecialToken = (typeof CHATGLM3_SPECIAL_TOKENS)[number];

/** Special tokens that are ordinary words too: decodable by id, never split out of text. */
const WORD_LIKE: ReadonlySet<string> = new Set(['sop', 'eop']);

export interface ChatGlm3TokenizerFiles {
  /** tokenizer.json (as an object). */
  tokenizerJson: Record<string, unknown>;
  /** tokenizer_config.json: the original's keys, the class and special tokens of the converted tokenizer. */
  tokenizerConfig: Record<string, unknown>;
  /** Id of each special token. */
  specialTokens: Record<ChatGlm3SpecialToken, number>;
  /** SentencePiece pieces (the first special token's id). */
  pieceCount: number;
}

/**
 * Converts ChatGLM3's `tokenizer.model` bytes (and its tokenizer_config.json, whose keys are kept) into
 * tokenizer.json + tokenizer_config.json. `file` names the model in errors.
 */
export function convertChatGlm3Tokenizer(modelBytes: Uint8Array, originalConfig: Record<string, unknown>, file: string): ChatGlm3TokenizerFiles {
  const model = readSentencePieceModel(modelBytes, file);
  const pieceCount = model.pieces.length;
  const specialTokens = Object.fromEntries(CHATGLM3_SPECIAL_TOKENS.map((token, index) => [token, pieceCount + index])) as Record<ChatGlm3SpecialToken, number>;
  const added: AddedToken[] = CHATGLM3_SPECIAL_TOKENS.filter((token) => !WORD_LIKE.has(token)).map((token) => ({ id: specialTokens[token], content: token }));
  const tokenizerJson = sentencePieceToTokenizerJson(model, added, file);
  const vocab = (tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  for (const token of WORD_LIKE) {
    if (token in vocab) {
      throw new TokenizerError(
        `${file}: the SentencePiece vocabulary has a piece '${token}' (id ${vocab[token]}), the name of ChatGLM3's special token ${specialTokens[token as ChatGlm3SpecialToken]}; the two cannot share one tokenizer.json vocabulary.`,
        { details: { file, field: 'pieces', value: token } },
      );
    }
    vocab[token] = specialTokens[token as ChatGlm3SpecialToken];
  }

  const addedTokensDecoder: Record<string, unknown> = {};
  for (const token of CHATGLM3_SPECIAL_TOKENS) {
    addedTokensDecoder[String(specialTokens[token])] = { content: token, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  const { auto_map: _autoMap, tokenizer_class: originalClass, ...kept } = originalConfig;
  const piece = (id: number) => (id >= 0 ? model.pieces[id]?.piece : undefined) ?? null;
  const tokenizerConfig: Record<string, unknown> = {
    ...kept,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: [...CHATGLM3_SPECIAL_TOKENS],
    unk_token: piece(model.unkId),
    bos_token: null,
    eos_token: piece(model.eosId),
    // ChatGLM3 pads with the unk id (SPTokenizer: pad_id = unk_id).
    pad_token: piece(model.unkId),
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
    autoglm_converted_from: { tokenizer_class: originalClass ?? null, file: 'tokenizer.model', format: 'sentencepiece' },
  };
  return { tokenizerJson, tokenizerConfig, specialTokens, pieceCount };
}
