/**
 * config.json of the remote-code `model_type: chatglm` checkpoints (ChatGLM2/3-6B, GLM-4-9B-chat): their own key
 * names (`num_layers`, `multi_query_group_num`, `kv_channels`, `padded_vocab_size`, `seq_length`, ...) validated and
 * mapped onto the names the rest of the engine uses. Fields that select a variant this runtime does not compute
 * (LayerNorm instead of RMSNorm, biased dense layers, post-norm residuals, the non-original rotary layout) are refused
 * here, by name, instead of loading a model whose output would silently differ.
 */
import { z } from 'zod';
import { ModelFormatError } from '../errors';

const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);

const chatGlmConfigSchema = z
  .object({
    model_type: z.literal('chatglm'),
    num_layers: z.number().int().positive().optional(),
    num_hidden_layers: z.number().int().positive().optional(),
    hidden_size: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    multi_query_attention: z.boolean().optional(),
    multi_query_group_num: z.number().int().positive().optional(),
    kv_channels: z.number().int().positive().optional(),
    ffn_hidden_size: z.number().int().positive(),
    padded_vocab_size: z.number().int().positive(),
    vocab_size: z.number().int().positive().optional(),
    seq_length: z.number().int().positive(),
    rope_ratio: z.number().positive().optional(),
    add_qkv_bias: z.boolean().optional(),
    add_bias_linear: z.boolean().optional(),
    layernorm_epsilon: z.number().positive().optional(),
    rmsnorm: z.boolean().optional(),
    post_layer_norm: z.boolean().optional(),
    original_rope: z.boolean().optional(),
    apply_residual_connection_post_layernorm: z.boolean().optional(),
    tie_word_embeddings: z.boolean().optional(),
    eos_token_id: tokenIds.optional(),
    pad_token_id: z.number().int().nonnegative().nullish(),
  })
  // ChatGLM configs carry many training-only keys (dropouts, fusion flags, quantization_bit, ...): kept, unread.
  .loose();

/** A chatglm config.json in the engine's terms (the same names a `glm` config.json uses). */
export interface ChatGlmConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  contextLength: number;
  /** 10000 x `rope_ratio` (absent = 1), as modeling_chatglm.py's RotaryEmbedding computes its base. */
  ropeTheta: number;
  /** ChatGLM rotates the first half of each head (`rotary_dim = kv_channels / 2`), in interleaved pairs. */
  partialRotaryFactor: 0.5;
  rmsNormEps: number;
  attentionBias: boolean;
  eosTokenId: number | number[] | undefined;
  padTokenId: number | undefined;
}

/** Validates a parsed chatglm config.json (`file` names it in errors) and maps it onto the engine's names. */
export function parseChatGlmConfig(json: unknown, file: string): ChatGlmConfig {
  const parsed = chatGlmConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    const missing = issue.code === 'invalid_type' && issue.message.includes('undefined');
    throw new ModelFormatError(`${file}: ${missing ? `missing required field '${field}'` : `invalid field '${field}': ${issue.message}`} (model_type chatglm).`, {
      details: { file, field, issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  const config = parsed.data;
  const refuse = (field: string, what: string): never => {
    throw new ModelFormatError(`${file}: ${what}; this runtime computes the ChatGLM2/3 and GLM-4-9B-chat variant only. Fix or remove the field '${field}'.`, {
      details: { file, field, value: (config as Record<string, unknown>)[field] },
    });
  };
  if (config.rmsnorm === false) refuse('rmsnorm', 'rmsnorm false (LayerNorm) is not supported');
  if (config.add_bias_linear === true) refuse('add_bias_linear', 'add_bias_linear true (biased dense layers) is not supported');
  if (config.apply_residual_connection_post_layernorm === true) {
    refuse('apply_residual_connection_post_layernorm', 'apply_residual_connection_post_layernorm true is not supported');
  }
  if (config.post_layer_norm === false) refuse('post_layer_norm', 'post_layer_norm false (no final norm) is not supported');
  if (config.original_rope === false) refuse('original_rope', 'original_rope false (the non-interleaved rotary layout) is not supported');
  if (config.tie_word_embeddings === true) refuse('tie_word_embeddings', 'tie_word_embeddings true is not supported (ChatGLM has its own output_layer)');

  const layers = config.num_layers ?? config.num_hidden_layers;
  if (layers === undefined) {
    throw new ModelFormatError(`${file}: missing required field 'num_layers' (model_type chatglm).`, { details: { file, field: 'num_layers' } });
  }
  if (config.num_layers !== undefined && config.num_hidden_layers !== undefined && config.num_layers !== config.num_hidden_layers) {
    throw new ModelFormatError(`${file}: num_layers (${config.num_layers}) and num_hidden_layers (${config.num_hidden_layers}) disagree. Fix the field 'num_hidden_layers'.`, {
      details: { file, field: 'num_hidden_layers' },
    });
  }
  const heads = config.num_attention_heads;
  // As modeling_chatglm.py: multi_query_group_num counts only when multi_query_attention is set.
  const kvHeads = config.multi_query_attention === false ? heads : (config.multi_query_group_num ?? heads);
  const headDim = config.kv_channels ?? config.hidden_size / heads;
  if (!Number.isInteger(headDim)) {
    throw new ModelFormatError(`${file}: kv_channels is absent and hidden_size (${config.hidden_size}) is not divisible by num_attention_heads (${heads}). Fix the field 'kv_channels'.`, {
      details: { file, field: 'kv_channels' },
    });
  }
  if (headDim % 4 !== 0) {
    throw new ModelFormatError(`${file}: kv_channels (${headDim}) must be a multiple of 4: ChatGLM rotates half of each head in pairs. Fix the field 'kv_channels'.`, {
      details: { file, field: 'kv_channels' },
    });
  }
  return {
    vocabSize: config.padded_vocab_size,
    hiddenSize: config.hidden_size,
    intermediateSize: config.ffn_hidden_size,
    layers,
    heads,
    kvHeads,
    headDim,
    contextLength: config.seq_length,
    ropeTheta: 10000 * (config.rope_ratio ?? 1),
    partialRotaryFactor: 0.5,
    rmsNormEps: config.layernorm_epsilon ?? 1e-5,
    attentionBias: config.add_qkv_bias ?? false,
    eosTokenId: config.eos_token_id,
    padTokenId: config.pad_token_id ?? undefined,
  };
}
