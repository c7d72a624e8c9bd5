/**
 * Whether a graph should load with ONNX Runtime's weight pre-packing. Quantized kernels need it for speed
 * (MatMulNBits without its packed weights dequantizes the whole matrix every call); float MatMul / Gemm do not
 * (MLAS multiplies a single row against unpacked weights directly) and pay for it with a second copy of the weights.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { ModelFiles } from './model-files';

/** Op types whose CPU kernels pre-pack quantized weights and slow down sharply without. */
const QUANTIZED_OPS = /MatMulNBits|MatMulInteger|DynamicQuantize|QLinear|QGemm|QAttention|MatMulFpQ4|MatMulBnb4/;

/** Largest graph file scanned for quantized ops; bigger files hold their weights inline and are not read twice. */
const SCAN_LIMIT_BYTES = 64 * 2 ** 20;

const FLOAT_DTYPES = new Set(['fp32', 'fp16']);

/**
 * True unless the graph's weights are known to be float: an fp32 / fp16 dtype, or (genai layout, no dtype) a graph
 * file of at most 64 MB without quantized op types. Unknown stays true, ONNX Runtime's own default.
 */
export function graphNeedsPrepacking(files: Pick<ModelFiles, 'dtype' | 'onnxFile'>): boolean {
  if (files.dtype !== undefined && !FLOAT_DTYPES.has(files.dtype)) return true;
  let size: number;
  try {
    size = statSync(files.onnxFile).size;
  } catch {
    return true;
  }
  if (size > SCAN_LIMIT_BYTES) return files.dtype === undefined;
  return QUANTIZED_OPS.test(readLatin1(files.onnxFile, size));
}

function readLatin1(file: string, size: number): string {
  const buffer = Buffer.alloc(size);
  const fd = openSync(file, 'r');
  try {
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
  return buffer.toString('latin1');
}
