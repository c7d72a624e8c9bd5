/** float32 -> float16 conversion for fp16 weights (Node 20 has no Float16Array). */
import { OnnxDataType, type OnnxTensor } from './onnx-graph-builder';

const floatView = new Float32Array(1);
const bits = new Uint32Array(floatView.buffer);

/** IEEE half-precision bits of `value`, rounded to nearest even. */
export function float16Bits(value: number): number {
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
