/**
 * The files that make a tiny model directory a ChatGLM one (`createTinyGlm({ family: 'chatglm' })`): config.json
 * with the remote-code keys of THUDM/chatglm3-6b, and ChatGLM3's tokenizer in its real form (a SentencePiece
 * `tokenizer.model` and the ChatGLMTokenizer tokenizer_config.json) plus its tokenizer.json conversion, as
 * `autoglm model convert` leaves a real ChatGLM3 directory.
 */
import { convertChatGlm3Tokenizer, type ChatGlm3SpecialToken } from '../tokenizers/chatglm-tokenizer-conversion';
import { CHATGLM3_TINY_TOKENIZER_MODEL_BASE64 } from './chatglm3-tiny-tokenizer-model';
import type { ResolvedTinyGlmOptions } from './tiny-glm-options';
import type { BuiltTokenizer, GlmSpecialToken, TokenizerJson } from './tiny-tokenizer';

/** ChatGLM3's tokenizer_config.json before conversion (THUDM/chatglm3-6b: remote-code ChatGLMTokenizer). */
const ORIGINAL_TOKENIZER_CONFIG = {
  added_tokens_decoder: {},
  auto_map: { AutoTokenizer: ['tokenization_chatglm.ChatGLMTokenizer', null] },
  clean_up_tokenization_spaces: false,
  do_lower_case: false,
  eos_token: '</s>',
  model_max_length: 1000000000000000019884624838656,
  pad_token: '<unk>',
  padding_side: 'left',
  remove_space: false,
  tokenizer_class: 'ChatGLMTokenizer',
  unk_token: '<unk>',
};

export interface ChatGlmTinyTokenizer {
  /** tokenizer.json, size (pieces + specials) and the GLM-named ids createTinyGlm reports. */
  built: BuiltTokenizer;
  /** ChatGLM3's own names and ids of its nine special tokens. */
  chatGlmTokens: Record<ChatGlm3SpecialToken, number>;
  /** The converted tokenizer_config.json. */
  tokenizerConfig: Record<string, unknown>;
  /** The SentencePiece `tokenizer.model` bytes. */
  modelBytes: Uint8Array;
  /** `</s>`, ChatGLM3's eos. */
  eosTokenId: number;
  /** `<unk>`, ChatGLM3's pad. */
  padTokenId: number;
}

/** The tiny ChatGLM3-style tokenizer (the committed SentencePiece fixture), converted. */
export function chatGlmTinyTokenizer(): ChatGlmTinyTokenizer {
  const modelBytes = new Uint8Array(Buffer.from(CHATGLM3_TINY_TOKENIZER_MODEL_BASE64, 'base64'));
  const converted = convertChatGlm3Tokenizer(modelBytes, ORIGINAL_TOKENIZER_CONFIG, 'tokenizer.model');
  const ids = converted.specialTokens;
  const eosTokenId = 2;
  // The GLM names createTinyGlm reports for every family; ChatGLM3 spells two of them without brackets and has no
  // <|endoftext|> (its eos is SentencePiece's </s>).
  const specialTokens: Record<GlmSpecialToken, number> = {
    '<|endoftext|>': eosTokenId,
    '[MASK]': ids['[MASK]'],
    '[gMASK]': ids['[gMASK]'],
    '[sMASK]': ids['[sMASK]'],
    '<sop>': ids.sop,
    '<eop>': ids.eop,
    '<|system|>': ids['<|system|>'],
    '<|user|>': ids['<|user|>'],
    '<|assistant|>': ids['<|assistant|>'],
    '<|observation|>': ids['<|observation|>'],
  };
  return {
    built: { json: converted.tokenizerJson as unknown as TokenizerJson, size: converted.pieceCount + Object.keys(ids).length, specialTokens },
    chatGlmTokens: ids,
    tokenizerConfig: converted.tokenizerConfig,
    modelBytes,
    eosTokenId,
    padTokenId: 0,
  };
}

/** The vocabulary rounded up the way ChatGLM pads it (65024 for 64798 ids): to a multiple of 64 here. */
export function chatGlmPaddedVocab(tokenizerSize: number): number {
  return Math.ceil(tokenizerSize / 64) * 64;
}

/** config.json in THUDM/chatglm3-6b's keys (test/fixtures/chatglm/chatglm3-6b.config.json), sized by `options`. */
export function chatGlmConfigJson(options: ResolvedTinyGlmOptions, eosTokenId: number, padTokenId: number): Record<string, unknown> {
  return {
    _name_or_path: 'autoglm/tiny-chatglm3',
    model_type: 'chatglm',
    architectures: ['ChatGLMModel'],
    auto_map: {
      AutoConfig: 'configuration_chatglm.ChatGLMConfig',
      AutoModel: 'modeling_chatglm.ChatGLMForConditionalGeneration',
      AutoModelForCausalLM: 'modeling_chatglm.ChatGLMForConditionalGeneration',
    },
    add_bias_linear: false,
    add_qkv_bias: options.attentionBias,
    apply_query_key_layer_scaling: true,
    apply_residual_connection_post_layernorm: false,
    attention_dropout: 0,
    attention_softmax_in_fp32: true,
    bias_dropout_fusion: true,
    ffn_hidden_size: options.intermediateSize,
    fp32_residual_connection: false,
    hidden_dropout: 0,
    hidden_size: options.hiddenSize,
    kv_channels: options.headDim,
    layernorm_epsilon: options.rmsNormEps,
    multi_query_attention: true,
    multi_query_group_num: options.kvHeads,
    num_attention_heads: options.heads,
    num_layers: options.layers,
    original_rope: true,
    padded_vocab_size: options.vocab,
    post_layer_norm: true,
    rmsnorm: true,
    rope_ratio: options.ropeTheta / 10000,
    seq_length: options.maxPositionEmbeddings,
    use_cache: true,
    torch_dtype: options.dtype === 'fp16' ? 'float16' : 'float32',
    transformers_version: '4.30.2',
    tie_word_embeddings: false,
    eos_token_id: eosTokenId,
    pad_token_id: padTokenId,
  };
}
