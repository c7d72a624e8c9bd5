/**
 * A SentencePiece BPE model as a Hugging Face `tokenizer.json`, the conversion transformers' own
 * `convert_slow_tokenizer` does for SentencePiece BPE tokenizers (Llama's, ChatGLM's): the vocabulary in id order,
 * merges derived from it (a piece is the merge of two shorter pieces; a merge ranks by the merged piece's id, which
 * SentencePiece BPE orders by score), byte fallback, and the normalizer steps the model's NormalizerSpec asks for
 * (dummy prefix, whitespace as U+2581). Settings that conversion cannot express exactly are refused, not approximated.
 */
import { TokenizerError } from '../../errors';
import { PIECE_TYPE, type SentencePieceModel } from './sentencepiece-model';

/** A token outside the SentencePiece vocabulary that the tokenizer's code appends (ChatGLM3's `[gMASK]`, ...). */
export interface AddedToken {
  id: number;
  content: string;
}

const SPACE = '\u2581';

/** tokenizer.json of `model`; `addedTokens` become special added tokens; `file` names the model in errors. */
export function sentencePieceToTokenizerJson(model: SentencePieceModel, addedTokens: readonly AddedToken[], file: string): Record<string, unknown> {
  const refuse = (field: string, what: string): never => {
    throw new TokenizerError(`${file}: ${what}; this conversion handles SentencePiece BPE models like ChatGLM3's tokenizer.model.`, {
      details: { file, field },
    });
  };
  if (model.modelType !== 2) refuse('trainer_spec.model_type', `model_type ${model.modelType} is not BPE (2)`);
  if (model.treatWhitespaceAsSuffix) refuse('trainer_spec.treat_whitespace_as_suffix', 'treat_whitespace_as_suffix is set');
  if (!model.escapeWhitespaces) refuse('normalizer_spec.escape_whitespaces', 'escape_whitespaces is off');
  if (model.normalizerName !== 'identity' && model.precompiledCharsmap.length === 0) {
    refuse('normalizer_spec.name', `normalizer '${model.normalizerName}' has no precompiled rules`);
  }

  const vocab: Record<string, number> = {};
  model.pieces.forEach((piece, id) => {
    if (piece.piece in vocab) refuse('pieces', `piece '${piece.piece}' appears twice (ids ${vocab[piece.piece]} and ${id})`);
    vocab[piece.piece] = id;
  });
  for (const token of addedTokens) {
    if (token.id < model.pieces.length) refuse('pieces', `added token '${token.content}' would take id ${token.id}, which the model's piece '${model.pieces[token.id].piece}' has`);
  }

  // Only normal pieces come out of merges (control, byte and unknown pieces never do, as in SentencePiece's encoder).
  const mergeable = new Set(model.pieces.filter((piece) => piece.type === PIECE_TYPE.normal || piece.type === PIECE_TYPE.userDefined).map((piece) => piece.piece));
  const merges: [string, string, number, number, number][] = [];
  model.pieces.forEach((piece, id) => {
    if (piece.type !== PIECE_TYPE.normal) return;
    const characters = [...piece.piece];
    for (let split = 1; split < characters.length; split++) {
      const left = characters.slice(0, split).join('');
      const right = characters.slice(split).join('');
      if (mergeable.has(left) && mergeable.has(right)) merges.push([left, right, id, vocab[left], vocab[right]]);
    }
  });
  // As transformers' SentencePieceExtractor: by the merged piece's id, then by the ids of its two halves.
  merges.sort((a, b) => a[2] - b[2] || a[3] - b[3] || a[4] - b[4]);

  const normalizers: Record<string, unknown>[] = [];
  if (model.precompiledCharsmap.length > 0) {
    normalizers.push({ type: 'Precompiled', precompiled_charsmap: Buffer.from(model.precompiledCharsmap).toString('base64') });
  }
  if (model.removeExtraWhitespaces) {
    normalizers.push({ type: 'Strip', strip_left: true, strip_right: true });
    normalizers.push({ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' });
  }
  if (model.addDummyPrefix) normalizers.push({ type: 'Prepend', prepend: SPACE });
  normalizers.push({ type: 'Replace', pattern: { String: ' ' }, content: SPACE });

  const decoders: Record<string, unknown>[] = [
    { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
  ];
  if (model.addDummyPrefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });

  const unk = model.pieces[model.unkId]?.piece;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map((token) => ({
      id: token.id,
      content: token.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Sequence', decoders },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk ?? null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: model.byteFallback,
      ignore_merges: false,
      vocab,
      merges: merges.map(([left, right]) => [left, right]),
    },
  };
}
