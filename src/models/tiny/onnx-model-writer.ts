/**
 * A small ONNX graph builder and a streaming writer. The graph (nodes, inputs, outputs, small constants) is encoded
 * with the `onnx-proto` bindings; weights are streamed one tensor at a time, either inline or into an external data
 * file, so a model of several GB never has to exist as one buffer in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType values used here. */
export const OnnxDataType = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
} as const;
export type OnnxDataTypeValue = (typeof OnnxDataType)[keyof typeof OnnxDataType];

const ELEMENT_BYTES: Record<OnnxDataTypeValue, number> = { 1: 4, 2: 1, 6: 4, 7: 8, 9: 1, 10: 2 };

/** A dimension: a fixed size or a symbolic name (dynamic axis). */
export type OnnxDim = number | string;

/** An attribute: integers as numbers, floats wrapped as `{ float }` (so 1.0 is not mistaken for an int). */
export type OnnxAttributeValue = number | string | number[] | { float: number } | { tensor: OnnxTensor };

/** A tensor whose bytes are produced when the model is written (lazily, to keep memory flat for big weights). */
export interface OnnxWeight {
  name: string;
  dataType: OnnxDataTypeValue;
  dims: number[];
  /** Produces the raw little-endian bytes, called once while writing. */
  bytes: () => Uint8Array;
}

/** A small tensor kept in memory (constants of the graph). */
export interface OnnxTensor {
  dataType: OnnxDataTypeValue;
  dims: number[];
  bytes: Uint8Array;
}

export function int64Tensor(values: readonly (number | bigint)[], dims: number[] = [values.length]): OnnxTensor {
  const array = BigInt64Array.from(values.map((value) => BigInt(value)));
  return { dataType: OnnxDataType.int64, dims, bytes: new Uint8Array(array.buffer) };
}

export function floatTensor(values: readonly number[] | Float32Array, dims: number[] = [values.length]): OnnxTensor {
  const array = Float32Array.from(values);
  return { dataType: OnnxDataType.float, dims, bytes: new Uint8Array(array.buffer) };
}

/** IEEE half-precision bits of `value`, rounded to nearest even (Node 20 has no Float16Array). */
export function float16Bits(value: number): number {
  const floatView = new Float32Array(1);
  const bits = new Uint32Array(floatView.buffer);
  floatView[0] = value;
  const x = bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** float32 values as float16 bytes. */
export function toFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
  return out;
}

export function float16Tensor(values: ArrayLike<number>, dims: number[] = [values.length]): OnnxTensor {
  const array = toFloat16(values);
  return { dataType: OnnxDataType.float16, dims, bytes: new Uint8Array(array.buffer) };
}

interface NodeRecord {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain: string;
  attributes: Record<string, OnnxAttributeValue>;
}

interface ValueRecord {
  name: string;
  dataType: OnnxDataTypeValue;
  dims: OnnxDim[];
}

/** Builds one ONNX graph: values get unique names, nodes are appended in topological order by construction. */
export class OnnxGraphBuilder {
  readonly #nodes: NodeRecord[] = [];
  readonly #inputs: ValueRecord[] = [];
  readonly #outputs: ValueRecord[] = [];
  readonly #constants = new Map<string, OnnxTensor>();
  readonly #weights: OnnxWeight[] = [];
  readonly #domains = new Map<string, number>();
  #counter = 0;

  constructor(readonly opsetVersion: number) {
    this.#domains.set('', opsetVersion);
  }

  /** Declares that nodes of `domain` (e.g. `com.microsoft`) are used, at `version`. */
  useDomain(domain: string, version: number): void {
    this.#domains.set(domain, version);
  }

  input(name: string, dataType: OnnxDataTypeValue, dims: OnnxDim[]): string {
    this.#inputs.push({ name, dataType, dims });
    return name;
  }

  output(name: string, dataType: OnnxDataTypeValue, dims: OnnxDim[]): void {
    this.#outputs.push({ name, dataType, dims });
  }

  weight(weight: OnnxWeight): string {
    this.#weights.push(weight);
    return weight.name;
  }

  get weights(): readonly OnnxWeight[] {
    return this.#weights;
  }

  /** A named constant initializer, deduplicated by name. */
  constant(name: string, tensor: OnnxTensor): string {
    if (!this.#constants.has(name)) this.#constants.set(name, tensor);
    return name;
  }

  /** An int64 1-D constant, named after its values. */
  ints(values: readonly number[]): string {
    return this.constant(`const_i64_${values.join('_').replaceAll('-', 'm')}`, int64Tensor(values));
  }

  /** An int64 scalar constant. */
  int(value: number): string {
    return this.constant(`const_i64_scalar_${String(value).replace('-', 'm')}`, int64Tensor([value], []));
  }

  /** A float scalar constant. */
  float(value: number): string {
    const key = `const_f32_${String(value).replace('-', 'm').replace('.', 'p')}`;
    return this.constant(key, floatTensor([value], []));
  }

  /**
   * Appends a node; returns its output names. `outputs` may be a count (names are generated from `name`) or the
   * exact names.
   */
  node(
    opType: string,
    inputs: string[],
    options: {
      outputs?: number | string[];
      name?: string;
      attributes?: Record<string, OnnxAttributeValue>;
      domain?: string;
    } = {},
  ): string[] {
    const index = this.#counter++;
    const name = `${options.name ?? opType}_${index}`;
    const outputs =
      typeof options.outputs === 'object'
        ? options.outputs
        : Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}_out${i}`);
    this.#nodes.push({
      opType,
      inputs,
      outputs,
      name,
      domain: options.domain ?? '',
      attributes: options.attributes ?? {},
    });
    return outputs;
  }

  /** Shorthand for a single-output node. */
  op(
    opType: string,
    inputs: string[],
    attributes?: Record<string, OnnxAttributeValue>,
    name?: string,
    domain?: string,
  ): string {
    return this.node(opType, inputs, { attributes, name, domain })[0];
  }

  /** The graph without its weights, as an onnx-proto ModelProto. */
  toModelProto(graphName: string): onnxProto.onnx.ModelProto {
    const valueInfo = (value: ValueRecord) =>
      onnx.ValueInfoProto.create({
        name: value.name,
        type: {
          tensorType: {
            elemType: value.dataType,
            shape: {
              dim: value.dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
            },
          },
        },
      });
    const graph = onnx.GraphProto.create({
      name: graphName,
      node: this.#nodes.map((node) =>
        onnx.NodeProto.create({
          opType: node.opType,
          name: node.name,
          domain: node.domain,
          input: node.inputs,
          output: node.outputs,
          attribute: Object.entries(node.attributes).map(([key, value]) => attributeProto(key, value)),
        }),
      ),
      input: this.#inputs.map(valueInfo),
      output: this.#outputs.map(valueInfo),
      initializer: [...this.#constants].map(([name, tensor]) => tensorProto(name, tensor)),
    });
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'autoglm',
      producerVersion: '0.1.0',
      graph,
      opsetImport: [...this.#domains].map(([domain, version]) => ({ domain, version })),
    });
  }
}

function tensorProto(name: string, tensor: OnnxTensor): onnxProto.onnx.TensorProto {
  return onnx.TensorProto.create({ name, dataType: tensor.dataType, dims: tensor.dims, rawData: tensor.bytes });
}

function attributeProto(name: string, value: OnnxAttributeValue): onnxProto.onnx.AttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`Attribute ${name}: wrap non-integer floats as { float }`);
    return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
  }
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.TENSOR, t: tensorProto(name, value.tensor) });
}

export interface WriteOnnxModelOptions {
  /** Where the model goes. */
  modelPath: string;
  /**
   * When set, weights go to this file (path relative to the model's directory is `externalDataLocation`) instead
   * of inline.
   */
  externalData?: { path: string; location: string };
  graphName?: string;
}

/** Bytes of an external data chunk are aligned to this, as real exports do, so ORT can map them. */
const EXTERNAL_ALIGNMENT = 4096;

/** Protobuf varint of a non-negative integer up to 2^53. */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** Field tags (field number << 3 | wire type 2) used when streaming. */
const MODEL_GRAPH_TAG = (7 << 3) | 2;
const GRAPH_INITIALIZER_TAG = (5 << 3) | 2;
const TENSOR_RAW_DATA_TAG = (9 << 3) | 2;

interface PlannedWeight {
  weight: OnnxWeight;
  /** The TensorProto without its raw data (name, type, dims, or the external data reference). */
  header: Uint8Array;
  /** Bytes of the tensor's data. */
  length: number;
  /** Offset in the external data file (when external). */
  offset: number;
  /** Encoded size of the whole TensorProto. */
  size: number;
}

/**
 * Writes `builder`'s graph and weights. Weights are streamed one at a time: the sizes of every TensorProto are
 * known from the weights' shapes, so the file is written as one ordinary ModelProto (a single graph field) without
 * ever holding all the weights in memory.
 */
export async function writeOnnxModel(builder: OnnxGraphBuilder, options: WriteOnnxModelOptions): Promise<{ bytes: number }> {
  const model = builder.toModelProto(options.graphName ?? 'main_graph');
  const graphBody = onnx.GraphProto.encode(model.graph as onnxProto.onnx.GraphProto).finish();
  const head = onnx.ModelProto.encode(onnx.ModelProto.create({ ...model, graph: undefined })).finish();

  let offset = 0;
  const planned: PlannedWeight[] = builder.weights.map((weight) => {
    const elementSize = ELEMENT_BYTES[weight.dataType];
    const length = weight.dims.reduce((product, dim) => product * dim, 1) * elementSize;
    if (options.externalData) {
      offset += (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
      const header = onnx.TensorProto.encode(
        onnx.TensorProto.create({
          name: weight.name,
          dataType: weight.dataType,
          dims: weight.dims,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: options.externalData.location },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(length) },
          ],
        }),
      ).finish();
      const entry = { weight, header, length, offset, size: header.length };
      offset += length;
      return entry;
    }
    const header = onnx.TensorProto.encode(
      onnx.TensorProto.create({ name: weight.name, dataType: weight.dataType, dims: weight.dims }),
    ).finish();
    const size = header.length + 1 + varint(length).length + length;
    return { weight, header, length, offset: 0, size };
  });
  const graphLength =
    graphBody.length + planned.reduce((sum, entry) => sum + 1 + varint(entry.size).length + entry.size, 0);

  const modelFile = await open(options.modelPath, 'w');
  let dataFile: FileHandle | undefined;
  let written = 0;
  const write = async (file: FileHandle, bytes: Uint8Array) => {
    await file.write(bytes);
    written += bytes.length;
  };
  try {
    await write(modelFile, head);
    await write(modelFile, Uint8Array.of(MODEL_GRAPH_TAG));
    await write(modelFile, varint(graphLength));
    await write(modelFile, graphBody);
    if (options.externalData) dataFile = await open(options.externalData.path, 'w');
    let dataOffset = 0;
    for (const entry of planned) {
      const bytes = entry.weight.bytes();
      if (bytes.length !== entry.length) {
        throw new Error(`internal: weight ${entry.weight.name} has ${bytes.length} bytes, expected ${entry.length}`);
      }
      await write(modelFile, Uint8Array.of(GRAPH_INITIALIZER_TAG));
      await write(modelFile, varint(entry.size));
      await write(modelFile, entry.header);
      if (dataFile) {
        if (entry.offset > dataOffset) await write(dataFile, new Uint8Array(entry.offset - dataOffset));
        await write(dataFile, bytes);
        dataOffset = entry.offset + bytes.length;
      } else {
        await write(modelFile, Uint8Array.of(TENSOR_RAW_DATA_TAG));
        await write(modelFile, varint(bytes.length));
        await write(modelFile, bytes);
      }
    }
  } finally {
    await modelFile.close();
    await dataFile?.close();
  }
  return { bytes: written };
}
