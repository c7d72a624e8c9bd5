/**
 * A small ONNX graph builder over the `onnx-proto` bindings: values get unique names, nodes are appended in
 * topological order by construction, weights are kept as lazy byte producers for writeOnnxModel.
 */
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

/** Bytes per element of each type. */
export const ELEMENT_BYTES: Record<OnnxDataTypeValue, number> = { 1: 4, 2: 1, 6: 4, 7: 8, 9: 1, 10: 2 };

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

export function tensorProto(name: string, tensor: OnnxTensor): onnxProto.onnx.TensorProto {
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
