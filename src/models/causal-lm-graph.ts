/**
 * A decoder graph in the Optimum / transformers.js layout or onnxruntime-genai's, adapted to its own I/O metadata:
 * with or without `position_ids` and `num_logits_to_keep`, fp32 or fp16 KV and logits, a growing past or one
 * buffer shared by past and present. One `forward` call runs some new tokens on top of a KeyValueCache and returns
 * the logits of the last position.
 */
import { GenerationError, ModelFormatError, ModelLoadError } from '../errors';
import { OPTIMUM_IO_NAMES, layerName, type DecoderIoNames } from './genai-config';
import { widenFloat16 } from './generation/float16';
import { KvCache, type KeyValueCache, type KvCacheLayout } from './kv-cache';
import type { ModelInfo } from './language-model';
import { createTensor, type OnnxBackend, type OrtTensor, type TensorMetadata } from './onnx-backend';
import { SharedKvCache } from './shared-kv-cache';
import { PackedKvBatch } from './batching/packed-kv-batch';

export interface CausalLmGraphOptions {
  /** The graph's input and output names. Defaults to the Optimum names (`input_ids`, `past_key_values.%d.key`, `present.%d.key`, ...). */
  names?: DecoderIoNames;
  /**
   * Past and present share one buffer per layer of at most `maxLength` positions (GroupQueryAttention graphs with
   * onnxruntime-genai's `past_present_share_buffer`); `growthStep` as in SharedKvCacheOptions. Defaults to a
   * growing past.
   */
  sharedBuffer?: { maxLength: number; growthStep?: number };
  /**
   * Longest run of new tokens one `forward` feeds the graph: a longer prompt is prefilled in chunks of this many
   * tokens, one after another on the same cache. Bounds the activations of a prefill (the Optimum graph's attention
   * scores alone are heads x new x total floats, 134 MB for 2048 tokens at 8 heads) without changing the result.
   * Defaults to no chunking.
   */
  prefillChunkSize?: number;
}

/** What the engine learned from the graph's inputs and outputs. */
export interface GraphFeatures {
  hasPositionIds: boolean;
  /** Name of the logits-to-keep input (`num_logits_to_keep` or `logits_to_keep`), if the graph has one. */
  logitsToKeepInput: string | undefined;
  kvType: 'float32' | 'float16';
  logitsType: 'float32' | 'float16';
}

export class CausalLmGraph {
  readonly backend: OnnxBackend;
  readonly info: ModelInfo;
  readonly features: GraphFeatures;
  readonly kvLayout: KvCacheLayout;
  readonly names: DecoderIoNames;
  /** Set when past and present share one buffer (then the cache is a SharedKvCache). */
  readonly sharedBuffer: { maxLength: number; growthStep?: number } | undefined;
  readonly prefillChunkSize: number | undefined;
  /** fp16 logits of the last position, widened to fp32; overwritten by the next forward. */
  readonly #lastLogits: Float32Array;
  #ones = new BigInt64Array(0);
  /** The keys and values of the last batched step's sequences, packed while they keep stepping together. */
  readonly #batch: PackedKvBatch;
  readonly #logitsToKeep = createTensor('int64', BigInt64Array.from([1n]), []);

  constructor(backend: OnnxBackend, info: ModelInfo, options: CausalLmGraphOptions = {}) {
    this.backend = backend;
    this.info = info;
    const names = options.names ?? OPTIMUM_IO_NAMES;
    this.names = names;
    this.sharedBuffer = options.sharedBuffer;
    const chunk = options.prefillChunkSize;
    if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1)) {
      throw new ModelLoadError(`prefillChunkSize must be a positive integer (tokens per prefill run), got ${chunk}.`, {
        details: { field: 'prefillChunkSize', value: chunk },
      });
    }
    this.prefillChunkSize = chunk;
    const file = backend.modelPath;
    const input = (name: string): TensorMetadata => {
      const metadata = backend.inputs.get(name);
      if (!metadata) throw missing(file, 'input', name, [...backend.inputs.keys()]);
      return metadata;
    };
    const output = (name: string): TensorMetadata => {
      const metadata = backend.outputs.get(name);
      if (!metadata) throw missing(file, 'output', name, [...backend.outputs.keys()]);
      return metadata;
    };
    input(names.inputIds);
    input(names.attentionMask);
    const logits = output(names.logits);
    const pastKey = input(layerName(names.pastKey, 0));
    for (let layer = 0; layer < info.layers; layer++) {
      input(layerName(names.pastKey, layer));
      input(layerName(names.pastValue, layer));
      output(layerName(names.presentKey, layer));
      output(layerName(names.presentValue, layer));
    }
    if (backend.inputs.has(layerName(names.pastKey, info.layers))) {
      throw new ModelFormatError(`Graph ${file} has more layers of past_key_values than config.json's num_hidden_layers (${info.layers}).`, {
        details: { file, field: 'num_hidden_layers' },
      });
    }
    const kvHeadsDim = pastKey.shape[1];
    const headDimDim = pastKey.shape[3];
    if ((typeof kvHeadsDim === 'number' && kvHeadsDim !== info.kvHeads) || (typeof headDimDim === 'number' && headDimDim !== info.headDim)) {
      throw new ModelFormatError(
        `Graph ${file} declares ${pastKey.name} as [${pastKey.shape.join(', ')}] but config.json gives ${info.kvHeads} kv heads of size ${info.headDim}.`,
        { details: { file, input: pastKey.name } },
      );
    }
    const floatType = (metadata: TensorMetadata): 'float32' | 'float16' => {
      if (metadata.type === 'float32' || metadata.type === 'float16') return metadata.type;
      throw new ModelFormatError(`Graph ${file}: ${metadata.name} has type ${metadata.type}, expected float32 or float16.`, {
        details: { file, name: metadata.name },
      });
    };
    this.features = {
      hasPositionIds: names.positionIds !== undefined && backend.inputs.has(names.positionIds),
      logitsToKeepInput: ['num_logits_to_keep', 'logits_to_keep'].find((name) => backend.inputs.has(name)),
      kvType: floatType(pastKey),
      logitsType: floatType(logits),
    };
    const kvType = this.features.kvType;
    this.kvLayout = {
      layers: info.layers,
      kvHeads: info.kvHeads,
      headDim: info.headDim,
      type: kvType,
      pastKeyName: (layer) => layerName(names.pastKey, layer),
      pastValueName: (layer) => layerName(names.pastValue, layer),
      presentKeyName: (layer) => layerName(names.presentKey, layer),
      presentValueName: (layer) => layerName(names.presentValue, layer),
    };
    this.#lastLogits = new Float32Array(info.vocabSize);
    this.#batch = new PackedKvBatch({ layout: this.kvLayout, attentionMaskName: names.attentionMask, ...(this.sharedBuffer ? { sharedBuffer: this.sharedBuffer } : {}) });
  }

  /** How many times a batched step had to pack its sequences anew (members joined or left): for tests and benchmarks. */
  get batchRepacks(): number {
    return this.#batch.repacks;
  }

  /**
   * One decode step of several sequences in one run: `ids[b]` after the contents of `caches[b]` (distinct caches).
   * Returns each row's last-position logits (row b for caches[b]; fresh arrays, views of one buffer). One sequence
   * runs as a plain forward (the same kernels as when it runs alone).
   */
  async forwardBatch(ids: readonly number[], caches: readonly KeyValueCache[]): Promise<Float32Array[]> {
    const rows = caches.length;
    if (rows !== ids.length || rows === 0) throw new Error(`forwardBatch: ${ids.length} ids for ${rows} caches.`);
    if (rows === 1) {
      // fp32: the binding's fresh output, one row (nothing else holds it); fp16: the reused widening array, copied.
      const logits = await this.#run(ids, caches[0]!, 1);
      return [this.features.logitsType === 'float32' ? logits : logits.slice()];
    }
    const inputIds = new BigInt64Array(rows);
    for (let row = 0; row < rows; row++) inputIds[row] = BigInt(ids[row]!);
    const feeds: Record<string, OrtTensor> = { [this.names.inputIds]: createTensor('int64', inputIds, [rows, 1]) };
    if (this.features.hasPositionIds) {
      feeds[this.names.positionIds as string] = createTensor('int64', BigInt64Array.from(caches, (cache) => BigInt(cache.length)), [rows, 1]);
    }
    if (this.features.logitsToKeepInput) feeds[this.features.logitsToKeepInput] = this.#logitsToKeep;
    const fetches: Record<string, OrtTensor | null> = { [this.names.logits]: null };
    this.#batch.addFeeds(caches, feeds, fetches);
    const outputs = await this.backend.run(feeds, this.sharedBuffer ? fetches : undefined);
    this.#batch.advance(outputs, ids);
    const logits = outputs[this.names.logits];
    const vocab = this.info.vocabSize;
    if (logits.dims[0] !== rows || logits.dims[2] !== vocab || logits.dims[1] !== 1) {
      throw new ModelFormatError(`Graph ${this.backend.modelPath} returned logits [${logits.dims.join(', ')}] for a batch of ${rows}, expected [${rows}, 1, ${vocab}].`, {
        details: { file: this.backend.modelPath },
      });
    }
    let all = logits.data as Float32Array;
    if (this.features.logitsType !== 'float32') {
      all = new Float32Array(rows * vocab);
      this.#widen(logits, 0, rows * vocab, all);
    }
    return Array.from({ length: rows }, (_, row) => all.subarray(row * vocab, (row + 1) * vocab));
  }

  /** A cache of the layout this graph uses. */
  createCache(): KeyValueCache {
    if (this.sharedBuffer) return new SharedKvCache({ layout: this.kvLayout, ...this.sharedBuffer });
    return new KvCache(this.kvLayout);
  }

  /**
   * Runs `ids` after the cache's contents, appends their KV to the cache, and returns the logits of the last
   * position (the caller may modify it; valid until the next call). With `rows: r`, returns a fresh array of the
   * last r positions' logits, row after row (a draft verification); with `allPositions`, every position's. More
   * than `prefillChunkSize` ids run in chunks (the last chunk holds at least the rows asked for).
   */
  async forward(ids: readonly number[], cache: KeyValueCache, options: ForwardRowsOptions = {}): Promise<Float32Array> {
    const rows = forwardRows(ids.length, options);
    const chunk = this.prefillChunkSize;
    if (options.allPositions || chunk === undefined || ids.length <= chunk) return this.#run(ids, cache, rows);
    if (rows > 1) {
      // The rows asked for run together, after the ids before them in chunks.
      const split = ids.length - rows;
      for (let start = 0; start < split; start += chunk) await this.#run(ids.slice(start, Math.min(start + chunk, split)), cache, 1);
      return this.#run(ids.slice(split), cache, rows);
    }
    let start = 0;
    for (; start + chunk < ids.length; start += chunk) await this.#run(ids.slice(start, start + chunk), cache, 1);
    return this.#run(ids.slice(start), cache, 1);
  }

  async #run(ids: readonly number[], cache: KeyValueCache, rows: number): Promise<Float32Array> {
    const past = cache.length;
    const n = ids.length;
    const total = past + n;
    if (this.#ones.length < total) this.#ones = new BigInt64Array(Math.max(total, this.#ones.length * 2, 256)).fill(1n);
    const inputIds = new BigInt64Array(n);
    for (let i = 0; i < n; i++) inputIds[i] = BigInt(ids[i]);
    const feeds: Record<string, OrtTensor> = {
      [this.names.inputIds]: createTensor('int64', inputIds, [1, n]),
      [this.names.attentionMask]: createTensor('int64', this.#ones.subarray(0, total), [1, total]),
    };
    if (this.features.hasPositionIds) {
      const positions = new BigInt64Array(n);
      for (let i = 0; i < n; i++) positions[i] = BigInt(past + i);
      feeds[this.names.positionIds as string] = createTensor('int64', positions, [1, n]);
    }
    if (this.features.logitsToKeepInput) {
      feeds[this.features.logitsToKeepInput] = rows === 1 ? this.#logitsToKeep : createTensor('int64', BigInt64Array.from([BigInt(rows)]), []);
    }
    // Fetches first: a shared buffer may grow to fit the new tokens, and the past must be that same buffer.
    let fetches: Record<string, OrtTensor | null> | undefined;
    if (cache.addPresentFetches) {
      fetches = { [this.names.logits]: null };
      cache.addPresentFetches(fetches, n);
    }
    cache.addPastFeeds(feeds);
    const outputs = await this.backend.run(feeds, fetches);
    cache.update(outputs, ids);

    const logits = outputs[this.names.logits];
    const vocab = this.info.vocabSize;
    const returned = logits.dims[1];
    if (logits.dims[2] !== vocab) {
      throw new ModelFormatError(`Graph ${this.backend.modelPath} returned logits of width ${logits.dims[2]}, config.json says vocab_size ${vocab}.`, {
        details: { file: this.backend.modelPath, field: 'vocab_size' },
      });
    }
    if (rows > 1) {
      if (returned < rows) throw new Error(`Expected logits for the last ${rows} positions, got ${returned}.`);
      const last = new Float32Array(rows * vocab);
      this.#widen(logits, (returned - rows) * vocab, rows * vocab, last);
      return last;
    }
    const offset = (returned - 1) * vocab;
    if (this.features.logitsType === 'float32') {
      // The binding hands over a fresh buffer that nothing else holds: use its last row in place.
      return (logits.data as Float32Array).subarray(offset, offset + vocab);
    }
    this.#widen(logits, offset, vocab, this.#lastLogits);
    return this.#lastLogits;
  }

  #widen(logits: OrtTensor, offset: number, count: number, target: Float32Array): void {
    if (this.features.logitsType === 'float16') {
      widenFloat16((logits.data as Uint16Array).subarray(offset, offset + count), target);
    } else {
      target.set((logits.data as Float32Array).subarray(offset, offset + count));
    }
  }
}

/** Which logits rows a forward returns: the last `rows` positions, or all with `allPositions`. Defaults to the last one. */
export interface ForwardRowsOptions {
  /** Return every position's logits. */
  allPositions?: boolean;
  /** Return the logits of the last `rows` positions (1 <= rows <= ids.length). */
  rows?: number;
}

/** The number of rows a forward of `count` ids returns for these options. */
export function forwardRows(count: number, options: ForwardRowsOptions): number {
  if (options.allPositions) return count;
  const rows = options.rows ?? 1;
  if (!Number.isInteger(rows) || rows < 1 || rows > count) {
    throw new GenerationError(`forward: rows must be an integer from 1 to the ${count} ids run, got ${rows}.`, { details: { field: 'rows', value: rows } });
  }
  return rows;
}

function missing(file: string, kind: 'input' | 'output', name: string, present: string[]): ModelFormatError {
  return new ModelFormatError(
    `Graph ${file} lacks the ${kind} '${name}' of a decoder with past key values (it has: ${present.slice(0, 8).join(', ')}${present.length > 8 ? ', ...' : ''}). ` +
      `Export the model with past key values (Optimum: text-generation-with-past; onnxruntime-genai: check genai_config.json's input and output names).`,
    { details: { file, [kind]: name } },
  );
}
