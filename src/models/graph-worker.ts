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
      if (writeShared(request.slots, rows)) post({ type: 'result', id: request.id });
      // Views of one fresh array (the binding's output or a widened copy) that nothing here keeps: transferred.
      else sendLogits(request.id, rows.length === 1 ? rows[0]! : joinRows(rows), true);
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
    const single = !request.allPositions && rows === 1;
    if (single && writeShared([request.slot], [logits])) post({ type: 'result', id: request.id });
    else sendLogits(request.id, logits, !single || graph.features.logitsType === 'float32');
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
 * Copies each row into its slot's shared logits buffer, when every slot has one: the main thread reads them there,
 * so a decode step allocates nothing on its side (a transferred 600 KB buffer per token of a 151k vocabulary, on the
 * heap that also holds the tokenizer, cost it young- and old-generation collections worth about 7% of decode).
 */
function writeShared(slots: readonly number[], rows: readonly Float32Array[]): boolean {
  const targets = slots.map((slot) => sharedLogits.get(slot));
  if (targets.some((target) => target === undefined)) return false;
  rows.forEach((row, index) => targets[index]!.set(row));
  return true;
}

function joinRows(rows: readonly Float32Array[]): Float32Array {
  const vocab = rows[0]!.length;
  const all = new Float32Array(rows.length * vocab);
  rows.forEach((row, index) => all.set(row, index * vocab));
  return all;
}

/**
 * Transfers the logits' buffer when this is all it holds and nothing here keeps it (the binding's fresh output
 * with one row); otherwise (a prefill's rows, the graph's reused fp16-widening array) sends a copy of the row.
 */
function sendLogits(id: number, logits: Float32Array, fresh: boolean): void {
  const whole = fresh && logits.byteOffset === 0 && logits.byteLength === logits.buffer.byteLength;
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
