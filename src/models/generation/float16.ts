/** IEEE 754 half-precision to single-precision widening for fp16 logits (ONNX Runtime hands them over as Uint16Array). */

let table: Float32Array | undefined;

/** Widens `source` (fp16 bit patterns) into `target`, element by element, through a 65536-entry table. */
export function widenFloat16(source: Uint16Array, target: Float32Array): void {
  const lookup = (table ??= buildTable());
  const n = source.length;
  for (let i = 0; i < n; i++) target[i] = lookup[source[i]];
}

function buildTable(): Float32Array {
  const result = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) result[bits] = halfToFloat(bits);
  return result;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
