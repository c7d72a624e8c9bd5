/**
 * The two attention layouts of tiny GLM graphs. Each declares its own graph inputs (after input_ids and
 * attention_mask) and outputs (after logits), and builds one layer's attention up to, not including, o_proj.
 *
 * - `optimumAttention`: standard ONNX ops, as Optimum / transformers.js exports: position_ids input, interleaved
 *   partial RoPE, KV cache grown by Concat (past + new), GQA by broadcasting, additive causal + padding mask.
 * - `groupQueryAttention`: onnxruntime-genai's layout: com.microsoft GroupQueryAttention with RoPE fused
 *   (do_rotary, interleaved, cos/sin caches), no position_ids; past and present may share one max-length buffer.
 */
import { float16Tensor } from './float16';
import { OnnxDataType, floatTensor, type OnnxDataTypeValue, type OnnxGraphBuilder } from './onnx-graph-builder';
import type { ResolvedTinyGlmOptions } from './tiny-glm-options';

export interface AttentionContext {
  g: OnnxGraphBuilder;
  options: ResolvedTinyGlmOptions;
  inputIds: string;
  attentionMask: string;
  linear: (x: string, name: string, bias?: boolean) => string;
  /** The type of activations and of the KV cache: float32, or float16 for fp16 models. */
  compute: OnnxDataTypeValue;
}

export interface AttentionLayout {
  /** One layer's attention: normed hidden [batch, seq, hidden] -> [batch, seq, heads x headDim]. */
  layer(normed: string, layer: number): string;
  /** Declares present.{i}.key|value (called after logits is declared, to keep the Optimum output order). */
  declareOutputs(): void;
}

/** The smallest float32, used as an additive mask (like Hugging Face) so fully masked rows stay finite. */
const MASK_VALUE = -3.4028234663852886e38;

/** f_i = base^(-2i/R), rounded to float32 like Hugging Face's inv_freq. */
function inverseFrequencies(options: ResolvedTinyGlmOptions): number[] {
  const { rotaryDim, ropeTheta } = options;
  return Array.from({ length: rotaryDim / 2 }, (_, i) => Math.fround(1 / Math.pow(ropeTheta, (2 * i) / rotaryDim)));
}

function declarePast(context: AttentionContext, pastDim: string): { keys: string[]; values: string[] } {
  const { g, options } = context;
  const keys: string[] = [];
  const values: string[] = [];
  for (let layer = 0; layer < options.layers; layer++) {
    for (const [kind, list] of [['key', keys], ['value', values]] as const) {
      list.push(g.input(`past_key_values.${layer}.${kind}`, context.compute, ['batch_size', options.kvHeads, pastDim, options.headDim]));
    }
  }
  return { keys, values };
}

function declarePresents(context: AttentionContext): void {
  const { g, options } = context;
  for (let layer = 0; layer < options.layers; layer++) {
    for (const kind of ['key', 'value']) {
      g.output(`present.${layer}.${kind}`, context.compute, ['batch_size', options.kvHeads, 'total_sequence_length', options.headDim]);
    }
  }
}

export function optimumAttention(context: AttentionContext): AttentionLayout {
  const { g, options, inputIds, attentionMask, linear } = context;
  const { heads, kvHeads, headDim, rotaryDim } = options;
  const groups = heads / kvHeads;
  const float = OnnxDataType.float;
  const positionIds = g.input('position_ids', OnnxDataType.int64, ['batch_size', 'sequence_length']);
  const past = declarePast(context, 'past_sequence_length');

  // Rotary tables: angle = position * f_i, shaped [batch, 1, seq, R/2, 1] to broadcast over heads and over the
  // (even, odd) pair axis.
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: float }), g.ints([-1])]);
  const angles = g.op('Mul', [positions, g.constant('rope_inverse_frequencies', floatTensor(inverseFrequencies(options)))]);
  const half = context.compute === OnnxDataType.float16;
  const toCompute = (x: string) => (half ? g.op('Cast', [x], { to: context.compute }) : x);
  const cos = g.op('Unsqueeze', [toCompute(g.op('Cos', [angles])), g.ints([1, 4])], undefined, 'rope_cos');
  const sin = g.op('Unsqueeze', [toCompute(g.op('Sin', [angles])), g.ints([1, 4])], undefined, 'rope_sin');
  const rotate = (x: string, name: string): string => {
    const rotary = rotaryDim === headDim ? x : g.op('Slice', [x, g.ints([0]), g.ints([rotaryDim]), g.ints([3])]);
    const pairs = g.op('Reshape', [rotary, g.ints([0, 0, 0, rotaryDim / 2, 2])]);
    const [even, odd] = g.node('Split', [pairs], { outputs: 2, attributes: { axis: 4 }, name: `${name}.rope_split` });
    const newEven = g.op('Sub', [g.op('Mul', [even, cos]), g.op('Mul', [odd, sin])]);
    const newOdd = g.op('Add', [g.op('Mul', [odd, cos]), g.op('Mul', [even, sin])]);
    const rotated = g.op('Reshape', [g.op('Concat', [newEven, newOdd], { axis: 4 }), g.ints([0, 0, 0, rotaryDim])]);
    if (rotaryDim === headDim) return rotated;
    const passThrough = g.op('Slice', [x, g.ints([rotaryDim]), g.ints([headDim]), g.ints([3])]);
    return g.op('Concat', [rotated, passThrough], { axis: 3 }, `${name}.rope`);
  };

  // Additive mask [batch, 1, 1, seq, total]: key j is visible to query s when j <= past + s and mask[b, j] == 1.
  const totalLength = g.op('Gather', [g.op('Shape', [attentionMask]), g.int(1)], { axis: 0 });
  const sequenceLength = g.op('Gather', [g.op('Shape', [inputIds]), g.int(1)], { axis: 0 });
  const pastLength = g.op('Sub', [totalLength, sequenceLength]);
  const keyIndex = g.op('Range', [g.int(0), totalLength, g.int(1)]);
  const queryIndex = g.op('Unsqueeze', [g.op('Range', [pastLength, totalLength, g.int(1)]), g.ints([1])]);
  const causal = g.op('LessOrEqual', [keyIndex, queryIndex]);
  const padding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: OnnxDataType.bool }), g.ints([1])]);
  const allowed = g.op('And', [causal, padding]);
  const maskValues = g.op('Where', [allowed, g.float(0), g.float(MASK_VALUE)]);
  const mask = g.op('Unsqueeze', [maskValues, g.ints([1, 2])], undefined, 'attention_bias');
  const scale = g.float(1 / Math.sqrt(headDim));

  return {
    layer(normed, layer) {
      const attention = `model.layers.${layer}.self_attn`;
      const heads4d = (x: string, count: number) =>
        g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, count, headDim])])], { perm: [0, 2, 1, 3] });
      const query = rotate(heads4d(linear(normed, `${attention}.q_proj`, options.attentionBias), heads), `${attention}.q`);
      const key = rotate(heads4d(linear(normed, `${attention}.k_proj`, options.attentionBias), kvHeads), `${attention}.k`);
      const value = heads4d(linear(normed, `${attention}.v_proj`, options.attentionBias), kvHeads);
      const presentKey = `present.${layer}.key`;
      const presentValue = `present.${layer}.value`;
      g.node('Concat', [past.keys[layer], key], { outputs: [presentKey], attributes: { axis: 2 } });
      g.node('Concat', [past.values[layer], value], { outputs: [presentValue], attributes: { axis: 2 } });

      // GQA without copying the cache: query heads grouped as [batch, kv, group, seq, dim] broadcast against
      // [batch, kv, 1, total, dim]; query head h uses kv head floor(h / group), as repeat_kv does.
      const groupedQuery = g.op('Reshape', [query, g.ints([0, kvHeads, groups, -1, headDim])]);
      const keyT = g.op('Unsqueeze', [g.op('Transpose', [presentKey], { perm: [0, 1, 3, 2] }), g.ints([2])]);
      // Scores, mask and softmax in float32 (Hugging Face upcasts the softmax too).
      const rawScores = g.op('MatMul', [groupedQuery, keyT]);
      const scores = g.op('Add', [g.op('Mul', [half ? g.op('Cast', [rawScores], { to: float }) : rawScores, scale]), mask]);
      const probabilities = toCompute(g.op('Softmax', [scores], { axis: -1 }));
      const context = g.op('MatMul', [probabilities, g.op('Unsqueeze', [presentValue, g.ints([2])])]);
      return g.op('Reshape', [
        g.op('Transpose', [g.op('Reshape', [context, g.ints([0, heads, -1, headDim])])], { perm: [0, 2, 1, 3] }),
        g.ints([0, 0, heads * headDim]),
      ]);
    },
    declareOutputs: () => declarePresents(context),
  };
}

export function groupQueryAttention(context: AttentionContext): AttentionLayout {
  const { g, options, attentionMask, linear } = context;
  const { heads, kvHeads, headDim, rotaryDim, maxPositionEmbeddings } = options;
  g.useDomain('com.microsoft', 1);
  // With a shared buffer the past is max_length long; without, it grows. GroupQueryAttention handles both.
  const past = declarePast(context, 'past_sequence_length');

  // seqlens_k = (tokens in each row) - 1 and total_sequence_length = the mask's width, both int32, as
  // onnxruntime-genai's builder computes them from attention_mask.
  const rowLengths = g.op('ReduceSum', [attentionMask, g.ints([1])], { keepdims: 0 });
  const seqlensK = g.op('Cast', [g.op('Sub', [rowLengths, g.int(1)])], { to: OnnxDataType.int32 }, 'seqlens_k');
  const total = g.op('Gather', [g.op('Shape', [attentionMask]), g.int(1)], { axis: 0 });
  const totalLength = g.op('Cast', [total], { to: OnnxDataType.int32 }, 'total_sequence_length');

  // cos/sin caches [max positions, R/2], angles in float32 as Hugging Face computes them.
  const frequencies = inverseFrequencies(options);
  const cosCache = new Float32Array(maxPositionEmbeddings * (rotaryDim / 2));
  const sinCache = new Float32Array(cosCache.length);
  for (let position = 0; position < maxPositionEmbeddings; position++) {
    for (let i = 0; i < rotaryDim / 2; i++) {
      const angle = Math.fround(position * frequencies[i]);
      cosCache[position * (rotaryDim / 2) + i] = Math.cos(angle);
      sinCache[position * (rotaryDim / 2) + i] = Math.sin(angle);
    }
  }
  const cacheTensor = context.compute === OnnxDataType.float16 ? float16Tensor : floatTensor;
  const cos = g.constant('cos_cache', cacheTensor(cosCache, [maxPositionEmbeddings, rotaryDim / 2]));
  const sin = g.constant('sin_cache', cacheTensor(sinCache, [maxPositionEmbeddings, rotaryDim / 2]));

  return {
    layer(normed, layer) {
      const attention = `model.layers.${layer}.self_attn`;
      // Packed (chatglm): one [.., (heads + 2 kvHeads) x headDim] input, key and value left empty, as onnxruntime-genai
      // writes GroupQueryAttention with its packed q/k/v MatMul.
      const packed = options.family === 'chatglm';
      const query = linear(normed, packed ? `${attention}.qkv_proj` : `${attention}.q_proj`, options.attentionBias);
      const key = packed ? '' : linear(normed, `${attention}.k_proj`, options.attentionBias);
      const value = packed ? '' : linear(normed, `${attention}.v_proj`, options.attentionBias);
      const [output] = g.node(
        'GroupQueryAttention',
        [query, key, value, past.keys[layer], past.values[layer], seqlensK, totalLength, cos, sin],
        {
          outputs: [`${attention}.gqa_output`, `present.${layer}.key`, `present.${layer}.value`],
          name: `${attention}.GroupQueryAttention`,
          domain: 'com.microsoft',
          attributes: {
            num_heads: heads,
            kv_num_heads: kvHeads,
            scale: { float: 1 / Math.sqrt(headDim) },
            do_rotary: 1,
            rotary_interleaved: 1,
          },
        },
      );
      return output;
    },
    declareOutputs: () => declarePresents(context),
  };
}
