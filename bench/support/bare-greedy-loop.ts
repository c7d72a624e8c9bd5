/**
 * The floor every engine benchmark compares against: a bare `session.run` greedy loop on an Optimum-layout graph
 * (growing past, `position_ids`, `num_logits_to_keep`), with nothing around it but an argmax.
 */
import * as ort from 'onnxruntime-node';

export interface GraphShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Prefills `ids`, then decodes greedily until `steps` tokens exist. Times: call to first token, first to last. */
export async function bareGreedyLoop(
  session: ort.InferenceSession,
  shape: GraphShape,
  ids: number[],
  steps: number,
): Promise<{ timeToFirstTokenMs: number; decodeMs: number; tokens: number }> {
  const start = performance.now();
  let feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(ids.map(() => 1), [1, ids.length]),
    position_ids: int64(ids.map((_, i) => i), [1, ids.length]),
    num_logits_to_keep: int64([1], []),
  };
  for (let layer = 0; layer < shape.layers; layer++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]);
    }
  }
  let first = 0;
  let length = ids.length;
  for (let step = 0; step < steps; step++) {
    const out = await session.run(feeds);
    const logits = out.logits!.data as Float32Array;
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    if (step === 0) first = performance.now();
    feeds = {
      input_ids: int64([best], [1, 1]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(length + 1).fill(1n), [1, length + 1]),
      position_ids: int64([length], [1, 1]),
      num_logits_to_keep: int64([1], []),
    };
    for (let layer = 0; layer < shape.layers; layer++) {
      for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = out[`present.${layer}.${kind}`]!;
    }
    length++;
  }
  return { timeToFirstTokenMs: first - start, decodeMs: performance.now() - first, tokens: steps };
}
