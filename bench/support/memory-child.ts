/**
 * One measurement of bench/memory.bench.ts, in a process of its own (so that one variant's resident pages and
 * allocator state never count in another's). The parent bundles this file with esbuild and runs it on plain
 * `node`, the way an application runs the built package: `tsx` alone adds about 170 MB of resident memory (its
 * transformed copies of every imported module) that no user of dist/ pays.
 *
 * Argument: one JSON MemoryChildRequest. Output: one line `MEMORY-RESULT <json MemoryChildResult>` on stdout.
 */
import { readFileSync } from 'node:fs';
import { GlmModel, type GlmModelLoadOptions } from '../../src/models/glm-model';

export interface MemoryChildRequest {
  /** `baseline`: import the model code only; `run`: load, prefill, decode; `drift`: many generations. */
  mode: 'baseline' | 'run' | 'drift';
  directory?: string;
  load?: Pick<GlmModelLoadOptions, 'dtype' | 'prepacking' | 'prefillChunkSize'>;
  /** `run`: prompt tokens prefilled in one generation. */
  prefillTokens?: number;
  /** `run`: tokens decoded after the prefill (timed one by one). */
  decodeTokens?: number;
  /** `drift`: generations through one model. */
  generations?: number;
}

export interface ProcessMemory {
  /** Peak resident set so far (VmHWM), MB. */
  peak: number;
  /** Resident set now (VmRSS), MB. */
  rss: number;
  /** Anonymous resident pages (heap, arena, V8), MB. */
  anon: number;
  /** File-backed resident pages (shared libraries, memory-mapped weights), MB. */
  file: number;
  /** V8 heap in use, MB. */
  heap: number;
  /** ArrayBuffers (tensors handed to JavaScript), MB. */
  arrayBuffers: number;
}

export interface MemoryChildResult {
  baseline: ProcessMemory;
  afterLoad?: ProcessMemory;
  afterPrefill?: ProcessMemory;
  end?: ProcessMemory;
  loadMs?: number;
  prefillMs?: number;
  /** Time of each decoded token after the first, ms. */
  decodeMs?: number[];
  /**
   * `drift`: RSS (MB) after each generation, then again after a full garbage collection when the child runs with
   * `--expose-gc` (what stays: the raw figure swings by tens of MB with the collector's timing, since every step
   * hands the KV cache back as fresh ArrayBuffers); with the prompt length and prefix-cache setting.
   */
  drift?: Array<{ rss: number; rssAfterGc?: number; promptTokens: number; prefixCache: boolean; cachedTokens: number }>;
}

const MB = 2 ** 20;

export function processMemory(): ProcessMemory {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Math.round(Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024);
  const usage = process.memoryUsage();
  return {
    peak: field('VmHWM'),
    rss: field('VmRSS'),
    anon: field('RssAnon'),
    file: field('RssFile'),
    heap: Math.round(usage.heapUsed / MB),
    arrayBuffers: Math.round(usage.arrayBuffers / MB),
  };
}

/** Prompt ids spread over the vocabulary; every prompt is a prefix of the longest (same seed). */
function promptIds(length: number, salt = 0): number[] {
  return Array.from({ length }, (_, i) => 1000 + ((i * 7919 + salt * 104729) % 60000));
}

async function run(request: MemoryChildRequest): Promise<MemoryChildResult> {
  const result: MemoryChildResult = { baseline: processMemory() };
  if (request.mode === 'baseline') return result;
  if (!request.directory) throw new Error('memory-child: directory is required');
  const loadStart = performance.now();
  const model = await GlmModel.load(request.directory, request.load ?? {});
  result.loadMs = performance.now() - loadStart;
  result.afterLoad = processMemory();
  try {
    if (request.mode === 'run') {
      const prompt = promptIds(request.prefillTokens ?? 2048);
      const decodeMs: number[] = [];
      let last = 0;
      for await (const event of model.stream(prompt, { maxNewTokens: (request.decodeTokens ?? 16) + 1, temperature: 0, prefixCache: false })) {
        const now = performance.now();
        if (event.type === 'token') {
          if (last === 0) result.afterPrefill = processMemory();
          else decodeMs.push(now - last);
          last = now;
        } else if (event.type === 'end') {
          result.prefillMs = event.timings.prefillMs;
        }
      }
      result.decodeMs = decodeMs;
    } else {
      // Prompts of varying length (a long shared head, so the prefix cache has something to reuse), the cache
      // alternately on and off, a few decoded tokens each: the shape of a chat or agent session.
      const drift: NonNullable<MemoryChildResult['drift']> = [];
      const generations = request.generations ?? 100;
      for (let index = 0; index < generations; index++) {
        const head = promptIds(32 + ((index * 97) % 256));
        const prompt = [...head, ...promptIds(8 + (index % 7) * 16, index + 1)];
        const prefixCache = index % 2 === 0;
        const answer = await model.generate(prompt, { maxNewTokens: request.decodeTokens ?? 4, temperature: 0, prefixCache });
        const rss = processMemory().rss;
        const collect = (globalThis as { gc?: () => void }).gc;
        collect?.();
        drift.push({
          rss,
          ...(collect ? { rssAfterGc: processMemory().rss } : {}),
          promptTokens: prompt.length,
          prefixCache,
          cachedTokens: answer.usage.cachedTokens,
        });
      }
      result.drift = drift;
    }
    result.end = processMemory();
    return result;
  } finally {
    await model.dispose();
  }
}

const request = JSON.parse(process.argv[2] ?? '{}') as MemoryChildRequest;
console.log(`MEMORY-RESULT ${JSON.stringify(await run(request))}`);
