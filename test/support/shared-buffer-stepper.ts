/**
 * Runs a GroupQueryAttention graph (onnxruntime-genai layout) step by step on shared max-length KV buffers, the way
 * onnxruntime-genai does with `past_present_share_buffer`: each layer's past and present are one tensor.
 */
import * as ort from 'onnxruntime-node';

export interface SharedBufferStepper {
  /** Each layer's buffer by `${layer}.key` / `${layer}.value`: [1, kvHeads, maxLength, headDim]. */
  buffers: Record<string, ort.Tensor>;
  /** Feeds `ids` with a mask of `total` ones and `num_logits_to_keep` = `keep`. */
  step(ids: number[], total: number, keep: number): Promise<ort.InferenceSession.OnnxValueMapType>;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

export function sharedBufferStepper(session: ort.InferenceSession, shape: { layers: number; kvHeads: number; headDim: number }, maxLength: number): SharedBufferStepper {
  const { layers, kvHeads, headDim } = shape;
  const buffers: Record<string, ort.Tensor> = {};
  for (let layer = 0; layer < layers; layer++) {
    for (const kind of ['key', 'value']) {
      buffers[`${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(kvHeads * maxLength * headDim), [1, kvHeads, maxLength, headDim]);
    }
  }
  const step = async (ids: number[], total: number, keep: number) => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [1, ids.length]),
      attention_mask: int64(new Array(total).fill(1), [1, total]),
      num_logits_to_keep: int64([keep], []),
    };
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    for (let layer = 0; layer < layers; layer++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${layer}.${kind}`] = buffers[`${layer}.${kind}`];
        fetches[`present.${layer}.${kind}`] = buffers[`${layer}.${kind}`];
      }
    }
    return session.run(feeds, fetches);
  };
  return { buffers, step };
}
