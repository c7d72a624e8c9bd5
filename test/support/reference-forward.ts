/**
 * A plain-loop reference of the GLM forward pass (GLM.md section 2), written from the math and the Hugging Face
 * config, independent of the ONNX graph builder: it checks the graph's numerics. Weights are read back from the
 * written ONNX file (inline or external data) by their Hugging Face names. Accumulates in float64.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface ReferenceConfig {
  modelType: 'glm' | 'glm4' | 'chatglm';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  partialRotaryFactor: number;
  ropeTheta: number;
  rmsNormEps: number;
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
}

export interface ReferenceModel {
  config: ReferenceConfig;
  weights: Map<string, Float32Array>;
}

/** Per layer, per batch row: keys and values as [kvHeads][position][headDim]. */
export interface ReferenceCache {
  keys: number[][][][][];
  values: number[][][][][];
}

/** Reads config.json and every float32 initializer of onnx/model.onnx (with its external data, if any). */
export function loadReferenceModel(directory: string, onnxFile = 'onnx/model.onnx'): ReferenceModel {
  const raw = JSON.parse(readFileSync(path.join(directory, 'config.json'), 'utf8')) as Record<string, unknown>;
  const number = (key: string) => raw[key] as number;
  // ChatGLM's remote-code keys, read as modeling_chatglm.py reads them: kv_channels per head, multi_query_group_num
  // kv heads, RotaryEmbedding(kv_channels / 2) with base 10000 x rope_ratio, RMSNorm with layernorm_epsilon.
  const config: ReferenceConfig = raw.model_type === 'chatglm' ? {
    modelType: 'chatglm',
    vocabSize: number('padded_vocab_size'),
    hiddenSize: number('hidden_size'),
    intermediateSize: number('ffn_hidden_size'),
    layers: number('num_layers'),
    heads: number('num_attention_heads'),
    kvHeads: raw.multi_query_attention ? number('multi_query_group_num') : number('num_attention_heads'),
    headDim: number('kv_channels'),
    partialRotaryFactor: 0.5,
    ropeTheta: 10000 * ((raw.rope_ratio as number | undefined) ?? 1),
    rmsNormEps: number('layernorm_epsilon'),
    attentionBias: raw.add_qkv_bias as boolean,
    tieWordEmbeddings: false,
  } : {
    modelType: raw.model_type as 'glm' | 'glm4',
    vocabSize: number('vocab_size'),
    hiddenSize: number('hidden_size'),
    intermediateSize: number('intermediate_size'),
    layers: number('num_hidden_layers'),
    heads: number('num_attention_heads'),
    kvHeads: number('num_key_value_heads'),
    headDim: number('head_dim'),
    partialRotaryFactor: number('partial_rotary_factor'),
    ropeTheta: number('rope_theta'),
    rmsNormEps: number('rms_norm_eps'),
    attentionBias: raw.attention_bias as boolean,
    tieWordEmbeddings: raw.tie_word_embeddings as boolean,
  };
  const modelPath = path.join(directory, onnxFile);
  const model = onnx.ModelProto.decode(readFileSync(modelPath));
  const tensors = new Map<string, { dataType: number; dims: number[]; bytes: Uint8Array }>();
  const externalFiles = new Map<string, Buffer>();
  for (const tensor of model.graph?.initializer ?? []) {
    let bytes: Uint8Array;
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entry = (key: string) => (tensor.externalData ?? []).find((item) => item.key === key)?.value;
      const location = path.join(path.dirname(modelPath), entry('location') ?? '');
      if (!externalFiles.has(location)) externalFiles.set(location, readFileSync(location));
      const offset = Number(entry('offset') ?? 0);
      bytes = externalFiles.get(location)!.subarray(offset, offset + Number(entry('length')));
    } else {
      bytes = tensor.rawData ?? new Uint8Array(0);
    }
    tensors.set(tensor.name ?? '', { dataType: tensor.dataType ?? 0, dims: (tensor.dims ?? []).map(Number), bytes: new Uint8Array(bytes) });
  }
  const floats = (tensor: { dataType: number; bytes: Uint8Array }): Float32Array<ArrayBuffer> => {
    const { bytes } = tensor;
    if (tensor.dataType === onnx.TensorProto.DataType.FLOAT16) {
      return Float32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2), halfToFloat);
    }
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  };
  const isFloat = (dataType: number) =>
    dataType === onnx.TensorProto.DataType.FLOAT || dataType === onnx.TensorProto.DataType.FLOAT16;
  const weights = new Map<string, Float32Array>();
  for (const [name, tensor] of tensors) {
    if (tensor.dataType === onnx.TensorProto.DataType.UINT8 && name.endsWith('_Q4')) {
      // MatMulNBits int4: [N, blocks, blockSize / 2] bytes, low nibble first, zero point 8, one scale per block.
      const base = name.slice(0, -'_Q4'.length);
      const scales = floats(tensors.get(`${base}_scales`)!);
      const [rows, blocks, half] = tensor.dims;
      const blockSize = half * 2;
      const values = new Float32Array(rows * blocks * blockSize);
      for (let i = 0; i < values.length; i++) {
        const byte = tensor.bytes[i >> 1];
        const level = i % 2 === 0 ? byte & 0x0f : byte >> 4;
        values[i] = (level - 8) * scales[Math.floor(i / blockSize)];
      }
      weights.set(base, values);
      continue;
    }
    if (!isFloat(tensor.dataType) || !(name.endsWith('.weight') || name.endsWith('.bias'))) continue;
    let values = floats(tensor);
    // Linear weights are stored [in, out] for MatMul; bring them back to Hugging Face's [out, in].
    if (isLinearWeight(name)) values = transposeMatrix(values, tensor.dims[0], tensor.dims[1]);
    weights.set(name, values);
  }
  // A packed query_key_value projection (chatglm) splits into q, k and v rows: all q heads, then k, then v.
  for (let layer = 0; layer < config.layers; layer++) {
    const base = `model.layers.${layer}.self_attn`;
    const packed = weights.get(`${base}.qkv_proj.weight`);
    if (!packed) continue;
    const qRows = config.heads * config.headDim;
    const kvRows = config.kvHeads * config.headDim;
    const bias = weights.get(`${base}.qkv_proj.bias`);
    const parts: [string, number, number][] = [['q_proj', 0, qRows], ['k_proj', qRows, kvRows], ['v_proj', qRows + kvRows, kvRows]];
    for (const [name, start, rows] of parts) {
      weights.set(`${base}.${name}.weight`, packed.slice(start * config.hiddenSize, (start + rows) * config.hiddenSize));
      if (bias) weights.set(`${base}.${name}.bias`, bias.slice(start, start + rows));
    }
  }
  return { config, weights };
}

/** IEEE half bits -> number. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function isLinearWeight(name: string): boolean {
  return /(_proj|lm_head)\.weight$/.test(name);
}

function transposeMatrix(values: Float32Array, rows: number, columns: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

export interface ReferenceInput {
  /** [batch][seq] */
  inputIds: number[][];
  /** [batch][past + seq]; defaults to all ones. */
  attentionMask?: number[][];
  /** [batch][seq]; defaults to past .. past + seq - 1. */
  positionIds?: number[][];
  past?: ReferenceCache;
}

export interface ReferenceOutput {
  /** [batch][seq][vocab] */
  logits: Float64Array[][];
  present: ReferenceCache;
}

function rmsNorm(x: ArrayLike<number>, weight: Float32Array, eps: number): Float64Array {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  const inverse = 1 / Math.sqrt(sum / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * inverse * weight[i];
  return out;
}

/** y = W x (+ b) with W stored [out][in] as in Hugging Face. */
function matVec(weight: Float32Array, x: ArrayLike<number>, outSize: number, bias?: Float32Array): Float64Array {
  const inSize = x.length;
  const out = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let sum = bias ? bias[o] : 0;
    const row = o * inSize;
    for (let i = 0; i < inSize; i++) sum += weight[row + i] * x[i];
    out[o] = sum;
  }
  return out;
}

/** Interleaved partial RoPE on one head vector, in place. */
function applyRope(vector: Float64Array, position: number, rotaryDim: number, theta: number): void {
  for (let i = 0; i < rotaryDim / 2; i++) {
    // Hugging Face computes the angle in float32: inv_freq (float32) times the position.
    const frequency = Math.fround(1 / Math.pow(theta, (2 * i) / rotaryDim));
    const angle = Math.fround(position * frequency);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const even = vector[2 * i];
    const odd = vector[2 * i + 1];
    vector[2 * i] = even * c - odd * s;
    vector[2 * i + 1] = odd * c + even * s;
  }
}

export function referenceForward(model: ReferenceModel, input: ReferenceInput): ReferenceOutput {
  const { config, weights } = model;
  const w = (name: string): Float32Array => {
    const found = weights.get(name);
    if (!found) throw new Error(`reference: missing weight ${name}`);
    return found;
  };
  const { hiddenSize: hidden, heads, kvHeads, headDim, intermediateSize, vocabSize } = config;
  const groupSize = heads / kvHeads;
  const rotaryDim = Math.round(headDim * config.partialRotaryFactor);
  const batch = input.inputIds.length;
  const present: ReferenceCache = { keys: [], values: [] };
  const logits: Float64Array[][] = [];

  for (let layer = 0; layer < config.layers; layer++) {
    present.keys.push([]);
    present.values.push([]);
  }

  for (let b = 0; b < batch; b++) {
    const ids = input.inputIds[b];
    const seq = ids.length;
    const pastLength = input.past ? input.past.keys[0][b][0].length : 0;
    const mask = input.attentionMask?.[b] ?? new Array<number>(pastLength + seq).fill(1);
    const positions = input.positionIds?.[b] ?? ids.map((_, s) => pastLength + s);
    const embed = w('model.embed_tokens.weight');
    let states: Float64Array[] = ids.map((id) => Float64Array.from(embed.subarray(id * hidden, (id + 1) * hidden)));

    for (let layer = 0; layer < config.layers; layer++) {
      const prefix = `model.layers.${layer}`;
      const keys: number[][][] = Array.from({ length: kvHeads }, (_, h) => (input.past ? input.past.keys[layer][b][h].map((row) => [...row]) : []));
      const values: number[][][] = Array.from({ length: kvHeads }, (_, h) => (input.past ? input.past.values[layer][b][h].map((row) => [...row]) : []));
      const queries: Float64Array[][] = [];
      const normed = states.map((x) => rmsNorm(x, w(`${prefix}.input_layernorm.weight`), config.rmsNormEps));
      for (let s = 0; s < seq; s++) {
        const bias = (p: string) => (config.attentionBias ? w(`${prefix}.self_attn.${p}.bias`) : undefined);
        const q = matVec(w(`${prefix}.self_attn.q_proj.weight`), normed[s], heads * headDim, bias('q_proj'));
        const k = matVec(w(`${prefix}.self_attn.k_proj.weight`), normed[s], kvHeads * headDim, bias('k_proj'));
        const v = matVec(w(`${prefix}.self_attn.v_proj.weight`), normed[s], kvHeads * headDim, bias('v_proj'));
        const headQueries: Float64Array[] = [];
        for (let h = 0; h < heads; h++) {
          const head = q.slice(h * headDim, (h + 1) * headDim);
          applyRope(head, positions[s], rotaryDim, config.ropeTheta);
          headQueries.push(head);
        }
        queries.push(headQueries);
        for (let h = 0; h < kvHeads; h++) {
          const head = k.slice(h * headDim, (h + 1) * headDim);
          applyRope(head, positions[s], rotaryDim, config.ropeTheta);
          keys[h].push([...head]);
          values[h].push([...v.slice(h * headDim, (h + 1) * headDim)]);
        }
      }
      present.keys[layer][b] = keys;
      present.values[layer][b] = values;

      const total = pastLength + seq;
      states = states.map((x, s) => {
        const attended = new Float64Array(heads * headDim);
        for (let h = 0; h < heads; h++) {
          const kvHead = Math.floor(h / groupSize);
          const visible: number[] = [];
          for (let j = 0; j < total; j++) if (j <= pastLength + s && mask[j] === 1) visible.push(j);
          // A fully masked row (a padded query) attends uniformly to every key, as a finite additive mask does.
          const keysUsed = visible.length > 0 ? visible : Array.from({ length: total }, (_, j) => j);
          const scores = keysUsed.map((j) => {
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += queries[s][h][d] * keys[kvHead][j][d];
            return dot / Math.sqrt(headDim);
          });
          const max = Math.max(...scores);
          const exps = scores.map((score) => Math.exp(score - max));
          const sum = exps.reduce((a, e) => a + e, 0);
          keysUsed.forEach((j, index) => {
            const p = exps[index] / sum;
            for (let d = 0; d < headDim; d++) attended[h * headDim + d] += p * values[kvHead][j][d];
          });
        }
        let out = matVec(w(`${prefix}.self_attn.o_proj.weight`), attended, hidden);
        if (config.modelType === 'glm4') out = rmsNorm(out, w(`${prefix}.post_self_attn_layernorm.weight`), config.rmsNormEps);
        const afterAttention = x.map((value, i) => value + out[i]);

        const mlpIn = rmsNorm(afterAttention, w(`${prefix}.post_attention_layernorm.weight`), config.rmsNormEps);
        const gateUp = matVec(w(`${prefix}.mlp.gate_up_proj.weight`), mlpIn, 2 * intermediateSize);
        const activated = new Float64Array(intermediateSize);
        for (let i = 0; i < intermediateSize; i++) {
          const gate = gateUp[i];
          activated[i] = gateUp[intermediateSize + i] * (gate / (1 + Math.exp(-gate)));
        }
        let mlpOut = matVec(w(`${prefix}.mlp.down_proj.weight`), activated, hidden);
        if (config.modelType === 'glm4') mlpOut = rmsNorm(mlpOut, w(`${prefix}.post_mlp_layernorm.weight`), config.rmsNormEps);
        return afterAttention.map((value, i) => value + mlpOut[i]);
      });
    }

    // A tied int4 model still has its own (dequantized) lm_head, as real q4 exports of tied models do.
    const head = config.tieWordEmbeddings ? (weights.get('lm_head.weight') ?? w('model.embed_tokens.weight')) : w('lm_head.weight');
    logits.push(states.map((x) => matVec(head, rmsNorm(x, w('model.norm.weight'), config.rmsNormEps), vocabSize)));
  }
  return { logits, present };
}
