/**
 * The GLM decoder (GLM.md section 2) as an ONNX graph with the Optimum / transformers.js names (section 3):
 * input_ids, attention_mask, position_ids (standard attention only), past_key_values.{i}.key|value and optional
 * num_logits_to_keep in; logits and present.{i}.key|value out. Weights are initializers named after the Hugging
 * Face parameters: linear weights stored transposed ([in, out]) for MatMul, or as `<name>_Q4` / `<name>_scales`
 * for int4 MatMulNBits; every other tensor in Hugging Face layout. A tied lm_head reads the embedding matrix
 * (Gemm, transB) except with int4, where it gets its own `lm_head.weight_Q4` / `_scales` quantized from the
 * embedding, as real q4 exports of tied models have. fp16 models keep RMSNorm, RoPE angles and softmax in float32.
 */
import { groupQueryAttention, optimumAttention } from './glm-attention';
import { quantizeInt4, type Int4Weight } from './int4-quantization';
import { toFloat16 } from './float16';
import { OnnxDataType, OnnxGraphBuilder, floatTensor, type OnnxDataTypeValue, type OnnxWeight } from './onnx-graph-builder';
import { seededWeight, type WeightKind } from './seeded-weights';
import type { ResolvedTinyGlmOptions } from './tiny-glm-options';

/** One parameter of the model: its Hugging Face name, shape and kind. */
export interface GlmParameter {
  name: string;
  dims: number[];
  kind: WeightKind;
}

/** Every parameter of the model in Hugging Face naming, in state-dict order. */
export function glmParameters(options: ResolvedTinyGlmOptions): GlmParameter[] {
  const { hiddenSize, heads, kvHeads, headDim, intermediateSize, vocab } = options;
  const parameters: GlmParameter[] = [{ name: 'model.embed_tokens.weight', dims: [vocab, hiddenSize], kind: 'embedding' }];
  for (let layer = 0; layer < options.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const attention = `${prefix}.self_attn`;
    parameters.push({ name: `${prefix}.input_layernorm.weight`, dims: [hiddenSize], kind: 'norm' });
    // ChatGLM keeps q, k and v in one projection (query_key_value), as onnxruntime-genai packs them for
    // GroupQueryAttention: rows are all q heads, then the k heads, then the v heads.
    const projections = options.family === 'chatglm'
      ? ([['qkv_proj', (heads + 2 * kvHeads) * headDim]] as const)
      : ([['q_proj', heads * headDim], ['k_proj', kvHeads * headDim], ['v_proj', kvHeads * headDim]] as const);
    for (const [projection, width] of projections) {
      parameters.push({ name: `${attention}.${projection}.weight`, dims: [width, hiddenSize], kind: 'linear' });
      if (options.attentionBias) parameters.push({ name: `${attention}.${projection}.bias`, dims: [width], kind: 'bias' });
    }
    parameters.push({ name: `${attention}.o_proj.weight`, dims: [hiddenSize, heads * headDim], kind: 'linear' });
    if (options.family === 'glm4') parameters.push({ name: `${prefix}.post_self_attn_layernorm.weight`, dims: [hiddenSize], kind: 'norm' });
    parameters.push({ name: `${prefix}.post_attention_layernorm.weight`, dims: [hiddenSize], kind: 'norm' });
    parameters.push({ name: `${prefix}.mlp.gate_up_proj.weight`, dims: [2 * intermediateSize, hiddenSize], kind: 'linear' });
    parameters.push({ name: `${prefix}.mlp.down_proj.weight`, dims: [hiddenSize, intermediateSize], kind: 'linear' });
    if (options.family === 'glm4') parameters.push({ name: `${prefix}.post_mlp_layernorm.weight`, dims: [hiddenSize], kind: 'norm' });
  }
  parameters.push({ name: 'model.norm.weight', dims: [hiddenSize], kind: 'norm' });
  if (!options.tieWordEmbeddings) parameters.push({ name: 'lm_head.weight', dims: [vocab, hiddenSize], kind: 'linear' });
  return parameters;
}

/** The float32 values of one parameter, as createTinyGlm writes them. */
export function glmParameterValues(options: ResolvedTinyGlmOptions, parameter: GlmParameter): Float32Array {
  return seededWeight(options.seed, parameter.name, parameter.dims, parameter.kind, options.weightScale);
}

/** Builds the whole graph for `options`. */
export function buildGlmOnnxGraph(options: ResolvedTinyGlmOptions): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder(17);
  const { layers } = options;
  const float = OnnxDataType.float;
  const int64 = OnnxDataType.int64;
  const half = options.dtype === 'fp16';
  /** The type of weights and activations. */
  const compute = half ? OnnxDataType.float16 : float;
  const floatBytes = (values: Float32Array): Uint8Array => {
    const stored = half ? toFloat16(values) : values;
    return new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
  };

  // Linear weights are stored transposed ([in, out], the layout MatMul wants, as torch.onnx exports Linear), so ORT
  // neither folds a Transpose over every weight at load nor runs a transposed GEMM per step. With int4 they become
  // `<name>_Q4` + `<name>_scales` for MatMulNBits, in Hugging Face's [out, in] order, as ORT's quantizer names them.
  const weights = new Map<string, string>();
  const shapes = new Map<string, number[]>();
  const quantized = options.quantization === 'int4';
  for (const parameter of glmParameters(options)) {
    shapes.set(parameter.name, parameter.dims);
    const linearWeight = parameter.kind === 'linear';
    if (quantized && linearWeight) {
      addInt4Weight(g, options, parameter, () => glmParameterValues(options, parameter), floatBytes, compute);
      weights.set(parameter.name, parameter.name);
      continue;
    }
    const weight: OnnxWeight = {
      name: parameter.name,
      dataType: compute,
      dims: linearWeight ? [parameter.dims[1], parameter.dims[0]] : parameter.dims,
      bytes: () => {
        const values = glmParameterValues(options, parameter);
        return floatBytes(linearWeight ? transpose(values, parameter.dims[0], parameter.dims[1]) : values);
      },
    };
    weights.set(parameter.name, g.weight(weight));
  }
  if (quantized && options.tieWordEmbeddings) {
    // Real q4 exports of tied models keep the embedding Gather in float but give the lm_head MatMul its own
    // (transposed, hence separate) initializer, which the quantizer turns into MatMulNBits like any other linear
    // layer: without it, every decode step would still read the whole float vocabulary matrix.
    const embedding = glmParameters(options)[0];
    const lmHead: GlmParameter = { name: 'lm_head.weight', dims: embedding.dims, kind: 'linear' };
    shapes.set(lmHead.name, lmHead.dims);
    addInt4Weight(g, options, lmHead, () => glmParameterValues(options, embedding), floatBytes, compute);
  }
  const weight = (name: string): string => {
    const found = weights.get(name);
    if (found === undefined) throw new Error(`internal: no parameter ${name}`);
    return found;
  };

  const inputIds = g.input('input_ids', int64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', int64, ['batch_size', 'total_sequence_length']);
  if (quantized) g.useDomain('com.microsoft', 1);
  /** x [.., in] -> [.., out] through `${name}.weight` (+ `${name}.bias`); `output` names the result. */
  const linear = (x: string, name: string, bias = false, output?: string): string => {
    const [outSize, inSize] = shapes.get(`${name}.weight`) ?? [];
    const outputs = output && !bias ? [output] : 1;
    const product = quantized
      ? g.node('MatMulNBits', [x, `${name}.weight_Q4`, `${name}.weight_scales`], {
          outputs,
          name,
          domain: 'com.microsoft',
          attributes: {
            K: inSize,
            N: outSize,
            bits: 4,
            block_size: options.quantizationBlockSize,
            accuracy_level: options.quantizationAccuracyLevel,
          },
        })[0]
      : g.node('MatMul', [x, weight(`${name}.weight`)], { outputs, name })[0];
    if (!bias) return product;
    return g.node('Add', [product, weight(`${name}.bias`)], { outputs: output ? [output] : 1, name: `${name}.bias_add` })[0];
  };
  const attentionContext = { g, options, inputIds, attentionMask, linear, compute };
  const attention = options.attention === 'gqa' ? groupQueryAttention(attentionContext) : optimumAttention(attentionContext);
  const numLogitsToKeep = options.numLogitsToKeep ? g.input('num_logits_to_keep', int64, []) : undefined;

  const epsilon = g.constant('rms_norm_eps', floatTensor([options.rmsNormEps], []));
  // In float32 whatever the model's type, then cast back before the weight, as Hugging Face's RMSNorm does.
  const rmsNorm = (input: string, name: string): string => {
    const x = half ? g.op('Cast', [input], { to: float }) : input;
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 }, `${name}.mean_square`);
    const root = g.op('Sqrt', [g.op('Add', [meanSquare, epsilon])]);
    const normalized = g.op('Div', [x, root]);
    const back = half ? g.op('Cast', [normalized], { to: compute }) : normalized;
    return g.op('Mul', [back, weight(`${name}.weight`)], undefined, name);
  };

  let hidden = g.op('Gather', [weight('model.embed_tokens.weight'), inputIds], { axis: 0 }, 'embed_tokens');
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const normed = rmsNorm(hidden, `${prefix}.input_layernorm`);
    const merged = attention.layer(normed, layer);
    let attentionOut = linear(merged, `${prefix}.self_attn.o_proj`);
    if (options.family === 'glm4') attentionOut = rmsNorm(attentionOut, `${prefix}.post_self_attn_layernorm`);
    hidden = g.op('Add', [hidden, attentionOut], undefined, `${prefix}.attention_residual`);

    const mlpIn = rmsNorm(hidden, `${prefix}.post_attention_layernorm`);
    const gateUp = linear(mlpIn, `${prefix}.mlp.gate_up_proj`);
    const [gate, up] = g.node('Split', [gateUp], { outputs: 2, attributes: { axis: -1 }, name: `${prefix}.mlp.split` });
    const activated = g.op('Mul', [up, g.op('Mul', [gate, g.op('Sigmoid', [gate])])]);
    let mlpOut = linear(activated, `${prefix}.mlp.down_proj`);
    if (options.family === 'glm4') mlpOut = rmsNorm(mlpOut, `${prefix}.post_mlp_layernorm`);
    hidden = g.op('Add', [hidden, mlpOut], undefined, `${prefix}.mlp_residual`);
  }

  hidden = rmsNorm(hidden, 'model.norm');
  if (numLogitsToKeep !== undefined) {
    // keep = 0 keeps every position (Slice from -0 = 0), as transformers.js expects.
    const start = g.op('Neg', [g.op('Reshape', [numLogitsToKeep, g.ints([1])])]);
    hidden = g.op('Slice', [hidden, start, g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])], undefined, 'keep_last_logits');
  }
  if (options.tieWordEmbeddings && !quantized) {
    // The tied matrix is [vocab, hidden] for the Gather; Gemm reads it transposed in place, without a second copy.
    const [outSize, inSize] = shapes.get('model.embed_tokens.weight') ?? [];
    const rows = g.op('Reshape', [hidden, g.ints([-1, inSize])]);
    const product = g.op('Gemm', [rows, weight('model.embed_tokens.weight')], { transB: 1 }, 'lm_head');
    const leading = g.op('Slice', [g.op('Shape', [hidden]), g.ints([0]), g.ints([2])]);
    g.node('Reshape', [product, g.op('Concat', [leading, g.ints([outSize])], { axis: 0 })], { outputs: ['logits'] });
  } else {
    linear(hidden, 'lm_head', false, 'logits');
  }

  g.output('logits', compute, ['batch_size', numLogitsToKeep ? 'logits_sequence_length' : 'sequence_length', options.vocab]);
  attention.declareOutputs();
  return g;
}

/** Adds the two MatMulNBits initializers of `parameter` (quantized from `values`, [out, in]). */
function addInt4Weight(
  g: OnnxGraphBuilder,
  options: ResolvedTinyGlmOptions,
  parameter: GlmParameter,
  values: () => Float32Array,
  floatBytes: (values: Float32Array) => Uint8Array,
  scaleType: OnnxDataTypeValue,
): void {
  const [rows, columns] = parameter.dims;
  const blockSize = options.quantizationBlockSize;
  // Quantized once for both initializers, dropped after the second is written (they are written in order).
  let cache: Int4Weight | undefined;
  const quantize = () => (cache ??= quantizeInt4(values(), rows, columns, blockSize));
  g.weight({
    name: `${parameter.name}_Q4`,
    dataType: OnnxDataType.uint8,
    dims: [rows, columns / blockSize, blockSize / 2],
    bytes: () => quantize().packed,
  });
  g.weight({
    name: `${parameter.name}_scales`,
    dataType: scaleType,
    dims: [rows * (columns / blockSize)],
    bytes: () => {
      const { scales } = quantize();
      cache = undefined;
      return floatBytes(scales);
    },
  });
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * columns;
    for (let c = 0; c < columns; c++) out[c * rows + r] = values[offset + c];
  }
  return out;
}
