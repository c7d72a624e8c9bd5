/**
 * The GLM decoder as an ONNX graph in the Optimum / transformers.js layout (GLM.md sections 2 and 3): input_ids,
 * attention_mask, position_ids, past_key_values.{i}.key|value and optional num_logits_to_keep in; logits and
 * present.{i}.key|value out. Weights are initializers named after the Hugging Face parameters; linear weights are
 * stored transposed ([in, out]) for MatMul, every other tensor in Hugging Face layout.
 */
import { OnnxDataType, OnnxGraphBuilder, floatTensor, type OnnxWeight } from './onnx-model-writer';
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
    for (const [projection, width] of [['q_proj', heads * headDim], ['k_proj', kvHeads * headDim], ['v_proj', kvHeads * headDim]] as const) {
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

/** The smallest float32, used as an additive mask (like Hugging Face) so fully masked rows stay finite. */
const MASK_VALUE = -3.4028234663852886e38;

/** Builds the whole graph for `options`. */
export function buildGlmOnnxGraph(options: ResolvedTinyGlmOptions): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder(17);
  const { hiddenSize, heads, kvHeads, headDim, layers } = options;
  const groups = heads / kvHeads;
  const rotaryDim = options.rotaryDim;
  const float = OnnxDataType.float;
  const int64 = OnnxDataType.int64;

  // Linear weights are stored transposed ([in, out], the layout MatMul wants, as torch.onnx exports Linear), so ORT
  // neither folds a Transpose over every weight at load nor runs a transposed GEMM per step.
  const weights = new Map<string, string>();
  const shapes = new Map<string, number[]>();
  for (const parameter of glmParameters(options)) {
    shapes.set(parameter.name, parameter.dims);
    const transposed = parameter.kind === 'linear';
    const weight: OnnxWeight = {
      name: parameter.name,
      dataType: float,
      dims: transposed ? [parameter.dims[1], parameter.dims[0]] : parameter.dims,
      bytes: () => {
        const values = glmParameterValues(options, parameter);
        const stored = transposed ? transpose(values, parameter.dims[0], parameter.dims[1]) : values;
        return new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
      },
    };
    weights.set(parameter.name, g.weight(weight));
  }
  const weight = (name: string): string => {
    const found = weights.get(name);
    if (found === undefined) throw new Error(`internal: no parameter ${name}`);
    return found;
  };

  const inputIds = g.input('input_ids', int64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', int64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', int64, ['batch_size', 'sequence_length']);
  const pastKeys: string[] = [];
  const pastValues: string[] = [];
  for (let layer = 0; layer < layers; layer++) {
    pastKeys.push(g.input(`past_key_values.${layer}.key`, float, ['batch_size', kvHeads, 'past_sequence_length', headDim]));
    pastValues.push(g.input(`past_key_values.${layer}.value`, float, ['batch_size', kvHeads, 'past_sequence_length', headDim]));
  }
  const numLogitsToKeep = options.numLogitsToKeep ? g.input('num_logits_to_keep', int64, []) : undefined;

  const linear = (x: string, name: string, bias = false): string => {
    const product = g.op('MatMul', [x, weight(`${name}.weight`)], undefined, name);
    return bias ? g.op('Add', [product, weight(`${name}.bias`)], undefined, `${name}.bias_add`) : product;
  };
  const epsilon = g.constant('rms_norm_eps', floatTensor([options.rmsNormEps], []));
  const rmsNorm = (x: string, name: string): string => {
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 }, `${name}.mean_square`);
    const root = g.op('Sqrt', [g.op('Add', [meanSquare, epsilon])]);
    return g.op('Mul', [g.op('Div', [x, root]), weight(`${name}.weight`)], undefined, name);
  };

  // Rotary tables: angle = position * f_i with f_i = base^(-2i/R), shaped [batch, 1, seq, R/2, 1] to broadcast over
  // heads and over the (even, odd) pair axis.
  const inverseFrequencies = Array.from({ length: rotaryDim / 2 }, (_, i) => Math.pow(options.ropeTheta, (-2 * i) / rotaryDim));
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: float }), g.ints([-1])]);
  const angles = g.op('Mul', [positions, g.constant('rope_inverse_frequencies', floatTensor(inverseFrequencies))]);
  const cos = g.op('Unsqueeze', [g.op('Cos', [angles]), g.ints([1, 4])], undefined, 'rope_cos');
  const sin = g.op('Unsqueeze', [g.op('Sin', [angles]), g.ints([1, 4])], undefined, 'rope_sin');
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

  let hidden = g.op('Gather', [weight('model.embed_tokens.weight'), inputIds], { axis: 0 }, 'embed_tokens');
  const presents: string[] = [];
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const attention = `${prefix}.self_attn`;
    const normed = rmsNorm(hidden, `${prefix}.input_layernorm`);
    const heads4d = (x: string, count: number) =>
      g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, count, headDim])])], { perm: [0, 2, 1, 3] });
    const query = rotate(heads4d(linear(normed, `${attention}.q_proj`, options.attentionBias), heads), `${attention}.q`);
    const key = rotate(heads4d(linear(normed, `${attention}.k_proj`, options.attentionBias), kvHeads), `${attention}.k`);
    const value = heads4d(linear(normed, `${attention}.v_proj`, options.attentionBias), kvHeads);
    const presentKey = `present.${layer}.key`;
    const presentValue = `present.${layer}.value`;
    g.node('Concat', [pastKeys[layer], key], { outputs: [presentKey], attributes: { axis: 2 } });
    g.node('Concat', [pastValues[layer], value], { outputs: [presentValue], attributes: { axis: 2 } });
    presents.push(presentKey, presentValue);

    // GQA without copying the cache: query heads grouped as [batch, kv, group, seq, dim] broadcast against
    // [batch, kv, 1, total, dim]; query head h uses kv head floor(h / group), as repeat_kv does.
    const groupedQuery = g.op('Reshape', [query, g.ints([0, kvHeads, groups, -1, headDim])]);
    const keyT = g.op('Unsqueeze', [g.op('Transpose', [presentKey], { perm: [0, 1, 3, 2] }), g.ints([2])]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [groupedQuery, keyT]), scale]), mask]);
    const probabilities = g.op('Softmax', [scores], { axis: -1 });
    const context = g.op('MatMul', [probabilities, g.op('Unsqueeze', [presentValue, g.ints([2])])]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [g.op('Reshape', [context, g.ints([0, heads, -1, headDim])])], { perm: [0, 2, 1, 3] }),
      g.ints([0, 0, heads * headDim]),
    ]);
    let attentionOut = linear(merged, `${attention}.o_proj`);
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
  if (options.tieWordEmbeddings) {
    // The tied matrix is [vocab, hidden] for the Gather; Gemm reads it transposed in place, without a second copy.
    const [outSize, inSize] = shapes.get('model.embed_tokens.weight') ?? [];
    const rows = g.op('Reshape', [hidden, g.ints([-1, inSize])]);
    const product = g.op('Gemm', [rows, weight('model.embed_tokens.weight')], { transB: 1 }, 'lm_head');
    const leading = g.op('Slice', [g.op('Shape', [hidden]), g.ints([0]), g.ints([2])]);
    g.node('Reshape', [product, g.op('Concat', [leading, g.ints([outSize])], { axis: 0 })], { outputs: ['logits'] });
  } else {
    g.node('MatMul', [hidden, weight('lm_head.weight')], { outputs: ['logits'], name: 'lm_head' });
  }

  g.output('logits', float, ['batch_size', numLogitsToKeep ? 'logits_sequence_length' : 'sequence_length', options.vocab]);
  for (const name of presents) g.output(name, float, ['batch_size', kvHeads, 'total_sequence_length', headDim]);
  return g;
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * columns;
    for (let c = 0; c < columns; c++) out[c * rows + r] = values[offset + c];
  }
  return out;
}
