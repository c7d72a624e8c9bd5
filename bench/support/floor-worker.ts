/**
 * The floor (bare-greedy-loop.ts) in a worker thread of its own: the per-token overhead bench runs it beside
 * GlmModel in one process, on a heap as small as GlmModel's graph worker's (the caller's heap holds a 151k-entry
 * tokenizer whose collections would slow a floor on the main thread, not the floor's own work). Started through
 * workerEntryFile (bundled by esbuild from source). Request: { file, shape, ids, steps, sharedBufferLength? };
 * reply: the BareGreedyLoopResult, or { error }.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { bareGreedyLoop, type GraphShape } from './bare-greedy-loop';

export interface FloorRequest {
  file: string;
  shape: GraphShape;
  ids: number[];
  steps: number;
  sharedBufferLength?: number;
}

const port = parentPort!;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

port.on('message', (request: FloorRequest | 'release') => {
  void (async () => {
    try {
      if (request === 'release') {
        for (const session of sessions.values()) await (await session).release();
        port.postMessage({ released: true });
        return;
      }
      let session = sessions.get(request.file);
      // The session options GlmModel's backend uses by default (pre-packing on, as ONNX Runtime's own default).
      if (!session) sessions.set(request.file, (session = ort.InferenceSession.create(request.file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' })));
      const { sharedBufferLength } = request;
      port.postMessage(await bareGreedyLoop(await session, request.shape, request.ids, request.steps, sharedBufferLength === undefined ? {} : { sharedBufferLength }));
    } catch (error) {
      port.postMessage({ error: (error as Error).stack ?? String(error) });
    }
  })();
});
