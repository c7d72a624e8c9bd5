/**
 * The floor every engine benchmark compares against: a bare `session.run` greedy loop with nothing around it but an
 * argmax. Two graph layouts:
 * - Optimum (default): growing past, `position_ids`, `num_logits_to_keep`; each step's present becomes the next
 *   step's past.
 * - shared buffer (`sharedBufferLength`): the onnxruntime-genai GroupQueryAttention graph, one buffer per layer of
 *   that many positions fed as the past and bound as the pre-allocated present, the mask telling the valid length.
 */
import * as ort from 'onnxruntime-node';

export interface GraphShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

export interface BareGreedyLoopOptions {
  /**
   * Positions of the one buffer per layer shared by past and present (GroupQueryAttention graphs); it must hold
   * the prompt and every generated token. Defaults to none: the Optimum layout's growing past.
   */
  sharedBufferLength?: number;
}

export interface BareGreedyLoopResult {
  /** From the call to the first token's argmax. */
  timeToFirstTokenMs: number;
  /** From the first token to the last. */
  decodeMs: number;
  tokens: number;
  /** The generated ids. */
  ids: number[];
  /** performance.now() after each token's argmax: consecutive differences are the per-token decode times. */
  tokenTimes: number[];
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Prefills `ids`, then decodes greedily until `steps` tokens exist. */
export async function bareGreedyLoop(
  session: ort.InferenceSession,
  shape: GraphShape,
  ids: number[],
  steps: number,
  options: BareGreedyLoopOptions = {},
): Promise<BareGreedyLoopResult> {
  const shared = options.sharedBufferLength;
  if (shared !== undefined && shared < ids.length + steps) {
    throw new Error(`sharedBufferLength ${shared} cannot hold ${ids.length} prompt tokens and ${steps} new ones`);
  }
  const kinds = ['key', 'value'] as const;
  const buffers =
    shared === undefined
      ? undefined
      : Array.from({ length: shape.layers * 2 }, () => new ort.Tensor('float32', new Float32Array(shape.kvHeads * shared * shape.headDim), [1, shape.kvHeads, shared, shape.headDim]));
  const fetches: Record<string, ort.Tensor | null> | undefined = buffers && { logits: null };
  if (buffers && fetches) {
    for (let layer = 0; layer < shape.layers; layer++) {
      kinds.forEach((kind, index) => (fetches[`present.${layer}.${kind}`] = buffers[2 * layer + index]!));
    }
  }

  const start = performance.now();
  let newIds = ids;
  let past: Record<string, ort.Tensor> | undefined;
  let length = 0;
  const tokenTimes: number[] = [];
  const generated: number[] = [];
  for (let step = 0; step < steps; step++) {
    const total = length + newIds.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(newIds, [1, newIds.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      num_logits_to_keep: int64([1], []),
    };
    if (!buffers) feeds.position_ids = int64(newIds.map((_, i) => length + i), [1, newIds.length]);
    for (let layer = 0; layer < shape.layers; layer++) {
      kinds.forEach((kind, index) => {
        const name = `past_key_values.${layer}.${kind}`;
        feeds[name] = buffers
          ? buffers[2 * layer + index]!
          : (past?.[`present.${layer}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]));
      });
    }
    const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
    const logits = out.logits!.data as Float32Array;
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    tokenTimes.push(performance.now());
    generated.push(best);
    if (!buffers) past = out;
    length = total;
    newIds = [best];
  }
  const first = tokenTimes[0] ?? start;
  return { timeToFirstTokenMs: first - start, decodeMs: (tokenTimes.at(-1) ?? first) - first, tokens: steps, ids: generated, tokenTimes };
}
