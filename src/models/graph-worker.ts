/**
 * The worker thread of GlmModel's `runIn: 'worker'` (default): it owns the ONNX session, the CausalLmGraph and the
 * KV cache, so that the per-step copies of the present KV that onnxruntime-node hands to JavaScript are garbage in
 * this small heap (not in the caller's, where a full collection also walks the tokenizer and the application), and
 * so that `session.run` (synchronous in onnxruntime-node) never blocks the caller's event loop. Only the last
 * position's logits go back, transferred without a copy. Started by worker-graph.ts; a tsup entry of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { CausalLmGraph } from './causal-lm-graph';
import { serializeError, type GraphWorkerData, type GraphWorkerReply, type GraphWorkerRequest } from './graph-worker-protocol';
import type { KeyValueCache } from './kv-cache';
import { loadKvSnapshot, saveKvSnapshot } from './kv-snapshot';
import { OnnxBackend } from './onnx-backend';

const port = parentPort;
if (!port) throw new Error('graph-worker.ts runs only as a worker thread (started by GlmModel).');
const data = workerData as GraphWorkerData;
const post = (reply: GraphWorkerReply, transfer?: ArrayBuffer[]): void => port.postMessage(reply, transfer);

// Log lines travel to the main thread, which replays them on the caller's logger.
const logger = pino({ level: data.logLevel, base: null, timestamp: false }, { write: (line: string) => post({ type: 'log', line }) });

let backend: OnnxBackend | undefined;
let graph: CausalLmGraph | undefined;
/** One KV cache per sequence slot, made at the slot's first use. */
const caches = new Map<number, KeyValueCache>();
/** Each slot's logits row shared with the main thread (logits-buffer requests). */
const sharedLogits = new Map<number, Float32Array>();

// No top-level await: the CommonJS build of this entry cannot have it.
void (async () => {
  try {
    backend = await OnnxBackend.load(data.onnxFile, { ...data.backend, logger });
    graph = new CausalLmGraph(backend, data.info, data.graph);
    post({ type: 'ready', executionProvider: backend.executionProvider, features: graph.features, sharedBuffer: graph.sharedBuffer });
  } catch (error) {
    await backend?.dispose();
    post({ type: 'error', id: undefined, error: serializeError(error) });
  }
})();

port.on('message', (request: GraphWorkerRequest) => {
  void handle(request);
});

function slotCache(slot: number): KeyValueCache {
  if (!graph) throw new Error('The graph worker has no loaded model.');
  let cache = caches.get(slot);
  if (!cache) caches.set(slot, (cache = graph.createCache()));
  return cache;
}

async function handle(request: GraphWorkerRequest): Promise<void> {
  if (request.type === 'logits-buffer') {
    sharedLogits.set(request.slot, new Float32Array(request.buffer));
    return;
  }
  try {
    if (request.type === 'dispose') {
      for (const cache of caches.values()) cache.clear();
      await backend?.dispose();
      post({ type: 'disposed', id: request.id });
      return;
    }
    if (!graph) throw new Error('The graph worker has no loaded model.');
    if (request.type === 'step') {
      const stepCaches = request.slots.map((slot, row) => {
        const cache = slotCache(slot);
        const keep = request.keeps[row];
        if (keep !== undefined) cache.truncate(keep);
        return cache;
      });
      const rows = await graph.forwardBatch(request.ids, stepCaches);
      request.slots.forEach((slot, row) => sharedRow(slot).set(rows[row]!));
      post({ type: 'result', id: request.id });
      return;
    }
    if (request.type === 'save-state' || request.type === 'load-state') {
      handleState(request, slotCache(request.slot));
      return;
    }
    const cache = slotCache(request.slot);
    if (request.keep !== undefined) cache.truncate(request.keep);
    const rows = request.rows ?? 1;
    const logits = await graph.forward(request.ids, cache, { allPositions: request.allPositions, rows });
    const returned = request.allPositions ? request.ids.length : rows;
    if (returned === 1) {
      sharedRow(request.slot).set(logits);
      post({ type: 'result', id: request.id });
    } else {
      // Several rows: a fresh array of the graph's, transferred.
      sendLogits(request.id, logits);
    }
  } catch (error) {
    // A failed run may leave its caches between states; the main side clears its mirrors too.
    const slots = request.type === 'step' ? request.slots : 'slot' in request ? [request.slot] : [...caches.keys()];
    for (const slot of slots) caches.get(slot)?.clear();
    post({ type: 'error', id: request.id, error: serializeError(error) });
  }
}

/** Snapshot I/O: a failure leaves the cache as it was (loading checks the whole file before replacing it). */
function handleState(request: Extract<GraphWorkerRequest, { type: 'save-state' | 'load-state' }>, kv: KeyValueCache): void {
  try {
    if (request.type === 'save-state') {
      if (request.keep !== undefined) kv.truncate(request.keep);
      post({ type: 'state-saved', id: request.id, info: saveKvSnapshot(kv, request.file, request.options) });
    } else {
      loadKvSnapshot(kv, request.file, request.options);
      post({ type: 'state-loaded', id: request.id, tokenIds: [...kv.tokenIds] });
    }
  } catch (error) {
    post({ type: 'error', id: request.id, error: serializeError(error) });
  }
}

/**
 * A slot's logits row shared with the main thread (sent before the slot's first forward): one-row results are
 * copied there, so a decode step allocates nothing on the main side (a transferred 600 KB buffer per token of a
 * 151k vocabulary, on the heap that also holds the tokenizer, cost it young- and old-generation collections worth
 * about 7% of decode).
 */
function sharedRow(slot: number): Float32Array {
  const row = sharedLogits.get(slot);
  if (!row) throw new Error(`The graph worker has no logits buffer for slot ${slot}.`);
  return row;
}

/**
 * Sends several rows of logits (a fresh array the graph made for them): their buffer is transferred when it holds
 * nothing else, otherwise a copy of the rows is.
 */
function sendLogits(id: number, logits: Float32Array): void {
  const whole = logits.byteOffset === 0 && logits.byteLength === logits.buffer.byteLength;
  if (whole) {
    try {
      post({ type: 'result', id, logits }, [logits.buffer as ArrayBuffer]);
      return;
    } catch {
      // A buffer the binding does not let go of: copy below.
    }
  }
  const copy = logits.slice();
  post({ type: 'result', id, logits: copy }, [copy.buffer]);
}
