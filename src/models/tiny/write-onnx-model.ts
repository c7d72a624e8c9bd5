/**
 * Writes an OnnxGraphBuilder's model to disk. The graph (nodes, inputs, outputs, small constants) is encoded with
 * the `onnx-proto` bindings; weights are streamed one tensor at a time, either inline or into an external data
 * file, so a model of several GB never has to exist as one buffer in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { ELEMENT_BYTES, type OnnxGraphBuilder, type OnnxWeight } from './onnx-graph-builder';

const { onnx } = onnxProto;

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
