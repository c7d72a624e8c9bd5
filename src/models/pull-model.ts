/**
 * pullModel(): THE ONE PLACE THAT USES THE NETWORK (the library half of `autoglm pull`). Lists a model's files with
 * @huggingface/transformers' hub utilities (ModelRegistry) and downloads them from its configured hub host into the
 * local model cache (or `directory`). Everything else in autoglm loads local directories only
 * (`env.allowRemoteModels` stays false outside this file; a test checks that).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelLoadError } from '../errors';
import { cachedModelDirectory, isHubModelId, PULL_MARKER_FILE, type ModelCacheOptions, type PulledModel } from './model-cache';
import { DTYPE_SUFFIXES, type ModelDtype } from './model-files';

/** Progress of a pull: one event per received chunk, and one when a file is complete. */
export interface PullProgress {
  file: string;
  /** 1-based index of the file in `files`. */
  fileIndex: number;
  fileCount: number;
  receivedBytes: number;
  /** From the response's content-length; 0 when the host did not send one. */
  totalBytes: number;
  done: boolean;
}

export interface PullModelOptions extends ModelCacheOptions {
  /** Weights to fetch. Defaults to 'q4'. */
  dtype?: ModelDtype;
  /** Branch, tag or commit. Defaults to 'main'. */
  revision?: string;
  /** Where to write the model. Defaults to the cache folder GlmModel.load(repoId) reads. */
  directory?: string;
  /** Called as bytes arrive. */
  onProgress?: (progress: PullProgress) => void;
  /** Stops the download (the partial file is removed). */
  signal?: AbortSignal;
}

export interface PullModelResult extends PulledModel {
  directory: string;
}

/** Downloads a GLM ONNX export (e.g. `onnx-community/glm-edge-1.5b-chat-ONNX`) into the local model cache. */
export async function pullModel(repoId: string, options: PullModelOptions = {}): Promise<PullModelResult> {
  if (typeof repoId !== 'string' || !isHubModelId(repoId)) {
    throw new ModelLoadError(`pullModel: "${String(repoId)}" is not a hub repository id; expected owner/name, e.g. onnx-community/glm-edge-1.5b-chat-ONNX.`, {
      details: { field: 'repoId', value: repoId },
    });
  }
  const dtype = options.dtype ?? 'q4';
  if (!(dtype in DTYPE_SUFFIXES)) {
    throw new ModelLoadError(`pullModel: dtype must be one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}, got "${String(dtype)}".`, {
      details: { field: 'dtype', value: dtype },
    });
  }
  const revision = options.revision ?? 'main';
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(revision) || revision.includes('..')) {
    throw new ModelLoadError(`pullModel: revision "${revision}" is not a branch, tag or commit.`, { details: { field: 'revision', value: revision } });
  }
  const directory = path.resolve(options.cwd ?? process.cwd(), options.directory ?? cachedModelDirectory(repoId, options));
  const { env, ModelRegistry } = await import('@huggingface/transformers');
  // The one place remote loading is switched on: this call only downloads.
  env.allowRemoteModels = true;
  let files: string[];
  try {
    files = await ModelRegistry.get_files(repoId, { dtype, include_processor: false });
  } catch (cause) {
    throw new ModelLoadError(`pull: cannot list the files of ${repoId} on ${env.remoteHost}: ${(cause as Error).message}`, { cause, details: { repoId } });
  }
  const base = env.remoteHost.replace(/\/?$/, '/') + env.remotePathTemplate.replaceAll('{model}', repoId).replaceAll('{revision}', encodeURIComponent(revision));
  await rm(path.join(directory, PULL_MARKER_FILE), { force: true });
  for (const [index, file] of files.entries()) {
    const target = path.join(directory, file);
    if (!target.startsWith(directory + path.sep)) throw new ModelLoadError(`pull: the hub listed a file outside the model folder: ${file}.`);
    await mkdir(path.dirname(target), { recursive: true });
    const response = await fetch(new URL(file, base), options.signal === undefined ? {} : { signal: options.signal });
    if (!response.ok || response.body === null) {
      throw new ModelLoadError(`pull: ${file} of ${repoId}: HTTP ${response.status} ${response.statusText}.`, { details: { repoId, file } });
    }
    const progress: PullProgress = {
      file,
      fileIndex: index + 1,
      fileCount: files.length,
      receivedBytes: 0,
      totalBytes: Number(response.headers.get('content-length') ?? 0),
      done: false,
    };
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      progress.receivedBytes += chunk.length;
      options.onProgress?.({ ...progress });
    });
    // Written beside the target and renamed, so an interrupted pull never leaves a truncated file in place.
    const partial = `${target}.partial`;
    try {
      await pipeline(body, createWriteStream(partial));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    options.onProgress?.({ ...progress, done: true });
  }
  const pulled: PulledModel = { repoId, dtype, revision, files };
  // Last: GlmModel.load(repoId) treats a folder without this marker as an interrupted pull.
  await writeFile(path.join(directory, PULL_MARKER_FILE), `${JSON.stringify(pulled, null, 2)}\n`);
  return { ...pulled, directory };
}
