/**
 * Block-wise symmetric int4 quantization in the layout of com.microsoft MatMulNBits (bits = 4, no zero points, so
 * the implied zero point is 8): B is [N, blocks, blockSize / 2] bytes, element k of row n in block k / blockSize,
 * two elements per byte, the even one in the low nibble; scales are [N x blocks] float32.
 */
export interface Int4Weight {
  /** uint8 [N, blocks, blockSize / 2]. */
  packed: Uint8Array;
  /** float32 [N * blocks]. */
  scales: Float32Array;
}

/** Quantizes `values`, a row-major [rows = N][columns = K] matrix (Hugging Face [out, in]); K % blockSize == 0. */
export function quantizeInt4(values: Float32Array, rows: number, columns: number, blockSize: number): Int4Weight {
  const blocks = columns / blockSize;
  const packed = new Uint8Array((rows * columns) / 2);
  const scales = new Float32Array(rows * blocks);
  for (let row = 0; row < rows; row++) {
    for (let block = 0; block < blocks; block++) {
      const start = row * columns + block * blockSize;
      let absMax = 0;
      for (let j = 0; j < blockSize; j++) absMax = Math.max(absMax, Math.abs(values[start + j]));
      // Levels -8..7 around the implied zero point 8; 7 levels on each side keep the largest value exact.
      const scale = Math.fround(absMax / 7);
      scales[row * blocks + block] = scale;
      const inverse = scale === 0 ? 0 : 1 / scale;
      const byteStart = (row * blocks + block) * (blockSize / 2);
      for (let j = 0; j < blockSize; j += 2) {
        const low = Math.min(15, Math.max(0, Math.round(values[start + j] * inverse) + 8));
        const high = Math.min(15, Math.max(0, Math.round(values[start + j + 1] * inverse) + 8));
        packed[byteStart + j / 2] = low | (high << 4);
      }
    }
  }
  return { packed, scales };
}
