/**
 * Renders chat templates in a worker thread with a time and a memory limit, synchronously for the caller: a model
 * directory's template is untrusted code for a small language (`{% for i in range(100000000) %}` fills memory and
 * blocks for minutes), so it must never run on the caller's thread unbounded. The caller posts the render and
 * sleeps on a shared flag (`Atomics.wait`) up to the time limit, then takes the reply with `receiveMessageOnPort`;
 * past the limit, or when the worker dies of its heap limit, the worker is terminated and the render fails with a
 * ChatTemplateError. A new worker is started for the next render.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ChatTemplateError } from '../../errors';

export interface TemplateRenderLimits {
  /** Longest a render may take, in ms (worker start-up included). */
  timeoutMs: number;
  /** Heap of the rendering worker, in MB. */
  maxHeapMb: number;
  /** Longest rendered text, in characters. */
  maxOutputChars: number;
}

const workerSource = `
const { workerData } = require('node:worker_threads');
const { Template, Environment } = require(workerData.jinjaPath);
// range() materialises its whole list in one allocation: range(100000000) would exhaust the heap in a single step,
// which V8 reports as a fatal out-of-memory for the whole process, not as this worker's heap limit. Templates list
// messages and tools; no real one ranges over more than a few thousand items.
const maxRangeItems = 100000;
function boundedRange(start, stop, step = 1) {
  if (stop === undefined) { stop = start; start = 0; }
  if (step === 0) throw new Error('range() step must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (!(count <= maxRangeItems)) throw new Error('range() of ' + count + ' items is over the ' + maxRangeItems + ' a chat template may use');
  const result = [];
  for (let i = 0; i < count; i++) result.push(start + i * step);
  return result;
}
const setVariable = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  return setVariable.call(this, name, name === 'range' ? boundedRange : value);
};
const flag = new Int32Array(workerData.flag);
const compiled = new Map();
workerData.port.on('message', ({ id, text, context, maxOutputChars }) => {
  let reply;
  try {
    let template = compiled.get(text);
    if (template === undefined) { template = new Template(text); compiled.clear(); compiled.set(text, template); }
    const output = template.render(context);
    reply = output.length > maxOutputChars ? { id, tooLong: output.length } : { id, output };
  } catch (error) {
    reply = { id, error: String((error && error.message) || error) };
  }
  workerData.port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface RenderWorker {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  heapMb: number;
  /** Why the worker died, once it has. */
  failure?: string;
}

interface RenderReply {
  id: number;
  output?: string;
  error?: string;
  tooLong?: number;
}

let current: RenderWorker | undefined;
let nextId = 0;

function jinjaPath(): string {
  // import.meta.url in ESM (and under vitest); the CommonJS build has __filename instead.
  const metaUrl: string | undefined = import.meta.url;
  return createRequire(metaUrl ?? __filename).resolve('@huggingface/jinja');
}

function startWorker(heapMb: number): RenderWorker {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { jinjaPath: jinjaPath(), flag: flag.buffer, port: port2 },
    transferList: [port2],
    // Not the caller's flags: `--input-type=module` would make this CommonJS source fail to parse.
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, heapMb) },
    stdout: true,
    stderr: true,
  });
  worker.unref();
  port1.unref();
  const started: RenderWorker = { worker, port: port1, flag, heapMb };
  // A worker that dies (its heap limit) must not crash the process; the waiting render times out and says why.
  worker.on('error', (error) => {
    started.failure = error.message;
    if (current === started) current = undefined;
    // Wake a render waiting on this worker: it will find no reply and report the failure.
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
  return started;
}

/** Renders `templateText` with `context` under `limits`; `source` names the template in errors. */
export function renderTemplateBounded(templateText: string, context: Record<string, unknown>, limits: TemplateRenderLimits, source: string): string {
  if (current === undefined || current.heapMb !== limits.maxHeapMb) {
    if (current !== undefined) void current.worker.terminate();
    current = startWorker(limits.maxHeapMb);
  }
  const renderer = current;
  const id = nextId++;
  Atomics.store(renderer.flag, 0, 0);
  renderer.port.postMessage({ id, text: templateText, context, maxOutputChars: limits.maxOutputChars });
  const started = performance.now();
  let reply: RenderReply | undefined;
  while (reply === undefined) {
    const left = limits.timeoutMs - (performance.now() - started);
    if (left <= 0 || Atomics.wait(renderer.flag, 0, 0, left) === 'timed-out') break;
    const message = receiveMessageOnPort(renderer.port);
    if (message === undefined) {
      if (renderer.failure !== undefined) break;
      Atomics.store(renderer.flag, 0, 0);
      continue; // woken before the reply was queued: wait again
    }
    const candidate = message.message as RenderReply | undefined;
    if (candidate?.id === id) reply = candidate;
    else Atomics.store(renderer.flag, 0, 0); // a late reply to an earlier, abandoned render
  }
  if (reply === undefined) {
    if (current === renderer) current = undefined;
    void renderer.worker.terminate();
    throw new ChatTemplateError(
      `The chat template in ${source} did not finish rendering within ${limits.timeoutMs} ms and ${limits.maxHeapMb} MB; it was stopped` +
        `${renderer.failure === undefined ? '' : ` (${renderer.failure})`}. ` +
        'A chat template should render in milliseconds: check it for loops over huge ranges, or use another template.',
      { details: { source, timeoutMs: limits.timeoutMs, maxHeapMb: limits.maxHeapMb } },
    );
  }
  if (reply.error !== undefined) {
    throw new ChatTemplateError(`The chat template in ${source} failed to render: ${reply.error}`, { details: { source } });
  }
  if (reply.tooLong !== undefined) {
    throw new ChatTemplateError(`The chat template in ${source} rendered ${reply.tooLong} characters, more than the ${limits.maxOutputChars} allowed.`, {
      details: { source, chars: reply.tooLong },
    });
  }
  return reply.output!;
}
