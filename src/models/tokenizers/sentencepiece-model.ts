/**
 * A SentencePiece `tokenizer.model` (its ModelProto, sentencepiece_model.proto) read with protobufjs: the pieces
 * with their scores and types, and the trainer and normalizer settings that decide how text is encoded. Only the
 * fields a conversion needs are declared; protobuf skips the others.
 */
import protobuf from 'protobufjs';
import { TokenizerError } from '../../errors';

/** sentencepiece_model.proto `SentencePiece.Type`. */
export const PIECE_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  /** One of {@link PIECE_TYPE}. */
  type: number;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** `trainer_spec.model_type`: 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  /** -1 when the model has no pad piece. */
  padId: number;
  /** `normalizer_spec.name`: `identity`, `nmt_nfkc`, ... */
  normalizerName: string;
  /** The compiled normalization rules of non-identity normalizers (empty for identity). */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  treatWhitespaceAsSuffix: boolean;
}

// Field numbers and proto2 defaults as in sentencepiece_model.proto.
const root = protobuf.Root.fromJSON({
  nested: {
    sentencepiece: {
      nested: {
        TrainerSpec: {
          fields: {
            modelType: { type: 'int32', id: 3, options: { default: 1 } },
            treatWhitespaceAsSuffix: { type: 'bool', id: 24, options: { default: false } },
            byteFallback: { type: 'bool', id: 35, options: { default: false } },
            unkId: { type: 'int32', id: 40, options: { default: 0 } },
            bosId: { type: 'int32', id: 41, options: { default: 1 } },
            eosId: { type: 'int32', id: 42, options: { default: 2 } },
            padId: { type: 'int32', id: 43, options: { default: -1 } },
          },
        },
        NormalizerSpec: {
          fields: {
            name: { type: 'string', id: 1 },
            precompiledCharsmap: { type: 'bytes', id: 2 },
            addDummyPrefix: { type: 'bool', id: 3, options: { default: true } },
            removeExtraWhitespaces: { type: 'bool', id: 4, options: { default: true } },
            escapeWhitespaces: { type: 'bool', id: 5, options: { default: true } },
          },
        },
        SentencePiece: {
          fields: {
            piece: { type: 'string', id: 1 },
            score: { type: 'float', id: 2 },
            type: { type: 'int32', id: 3, options: { default: 1 } },
          },
        },
        ModelProto: {
          fields: {
            pieces: { rule: 'repeated', type: 'SentencePiece', id: 1 },
            trainerSpec: { type: 'TrainerSpec', id: 2 },
            normalizerSpec: { type: 'NormalizerSpec', id: 3 },
          },
        },
      },
    },
  },
});
const ModelProto = root.lookupType('sentencepiece.ModelProto');

/** Decodes the bytes of a SentencePiece `tokenizer.model`; `file` names it in errors. */
export function readSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  let decoded: Record<string, unknown>;
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), { defaults: true, longs: Number, bytes: Uint8Array as unknown as typeof String }) as Record<string, unknown>;
  } catch (cause) {
    throw new TokenizerError(`${file} is not a SentencePiece model (ModelProto): ${(cause as Error).message}. Pass the tokenizer.model the checkpoint ships.`, {
      cause,
      details: { file },
    });
  }
  const pieces = (decoded.pieces as SentencePiece[] | undefined) ?? [];
  if (pieces.length === 0) {
    throw new TokenizerError(`${file} holds no pieces; it is not a SentencePiece tokenizer.model (a tiktoken-style file is text: base64 token and rank per line).`, {
      details: { file },
    });
  }
  const trainer = (decoded.trainerSpec ?? {}) as Record<string, number | boolean>;
  const normalizer = (decoded.normalizerSpec ?? {}) as Record<string, unknown>;
  return {
    pieces: pieces.map(({ piece, score, type }) => ({ piece, score, type })),
    modelType: (trainer.modelType as number | undefined) ?? 1,
    byteFallback: (trainer.byteFallback as boolean | undefined) ?? false,
    unkId: (trainer.unkId as number | undefined) ?? 0,
    bosId: (trainer.bosId as number | undefined) ?? 1,
    eosId: (trainer.eosId as number | undefined) ?? 2,
    padId: (trainer.padId as number | undefined) ?? -1,
    treatWhitespaceAsSuffix: (trainer.treatWhitespaceAsSuffix as boolean | undefined) ?? false,
    normalizerName: (normalizer.name as string | undefined) ?? '',
    precompiledCharsmap: (normalizer.precompiledCharsmap as Uint8Array | undefined) ?? new Uint8Array(0),
    addDummyPrefix: (normalizer.addDummyPrefix as boolean | undefined) ?? true,
    removeExtraWhitespaces: (normalizer.removeExtraWhitespaces as boolean | undefined) ?? true,
    escapeWhitespaces: (normalizer.escapeWhitespaces as boolean | undefined) ?? true,
  };
}
