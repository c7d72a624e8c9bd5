/**
 * KV snapshot files: a cached sequence's token ids and the keys and values of every layer, so that a later process
 * (a workflow resumed after a crash) prefills only what is new, as node-llama-cpp's `saveStateToFile` /
 * `loadStateFromFile` do for llama.cpp.
 *
 * Layout: `AGKVSNAP` (8 bytes), format version (uint32 LE), header length (uint32 LE), the header's JSON, the body
 * (token ids as int32 LE, then per layer its keys and values as [kvHeads, tokens, headDim] of the KV element type),
 * and the SHA-256 of everything before it (32 bytes). The header names the model by a fingerprint; the size of
 * the file is fixed by the header, so a truncated file is told apart from a corrupt one. Written under a temporary
 * name, fsync'd and renamed into place: a crash leaves the previous snapshot or the new one, never a mix.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { KvSnapshotError } from '../errors';
import { syncDirectory } from '../sync-directory';
import type { KeyValueCache, KvArray, KvCacheLayout } from './kv-cache';
import type { ModelStateInfo, SaveStateOptions } from './language-model';
import type { ModelFiles } from './model-files';

/** The version of the file layout this code writes and reads. */
export const KV_SNAPSHOT_FORMAT = 1;

const magic = Buffer.from('AGKVSNAP', 'latin1');
const prefixBytes = magic.length + 8;
const checksumBytes = 32;

/** Which model a snapshot belongs to: loading it into another model is refused. */
export interface KvSnapshotModel {
  /** A digest of everything that decides what the KV means (config, graph, dtype, KV type and shape). */
  fingerprint: string;
  /** Human-readable model name for messages (the directory and graph file). */
  name: string;
}

/** What the header of a snapshot file holds. */
export interface KvSnapshotHeader {
  format: number;
  model: KvSnapshotModel;
  kvType: KvCacheLayout['type'];
  layers: number;
  kvHeads: number;
  headDim: number;
  tokens: number;
  /** Caller facts stored with the KV (a workflow's run and step). */
  meta: Record<string, string>;
}

/** What saving wrote. */
export type KvSnapshotInfo = ModelStateInfo;

export interface SaveKvSnapshotOptions {
  model: KvSnapshotModel;
  /** Positions to store, from the start (at most what the cache holds). Defaults to all it holds. */
  length?: number;
  /** Strings stored in the header. Defaults to none. */
  meta?: Record<string, string>;
}

/** Writes the first `length` positions of `cache` to `file` atomically (temporary file, fsync, rename). */
export function saveKvSnapshot(cache: KeyValueCache, file: string, options: SaveKvSnapshotOptions): KvSnapshotInfo {
  const state = cache.exportState(options.length ?? cache.length);
  const { layers, kvHeads, headDim, type } = cache.layout;
  const header: KvSnapshotHeader = { format: KV_SNAPSHOT_FORMAT, model: options.model, kvType: type, layers, kvHeads, headDim, tokens: state.tokenIds.length, meta: options.meta ?? {} };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(prefixBytes);
  magic.copy(prefix);
  prefix.writeUInt32LE(KV_SNAPSHOT_FORMAT, magic.length);
  prefix.writeUInt32LE(headerBytes.length, magic.length + 4);
  const ids = Buffer.from(Int32Array.from(state.tokenIds).buffer);
  const parts: Buffer[] = [prefix, headerBytes, ids];
  for (let layer = 0; layer < layers; layer++) parts.push(bytesOf(state.keys[layer]!), bytesOf(state.values[layer]!));
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  parts.push(hash.digest());

  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  let bytes = 0;
  try {
    fd = openSync(temporary, 'wx');
    for (const part of parts) {
      for (let written = 0; written < part.length; ) written += writeSync(fd, part, written);
      bytes += part.length;
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, file);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw new KvSnapshotError(`Cannot write the KV snapshot ${file}: ${(cause as Error).message}. Check that ${dirname(file)} exists, is writable and has free space.`, {
      cause,
      details: { file, reason: 'write' },
    });
  }
  syncDirectory(dirname(file));
  return { file, tokens: state.tokenIds.length, bytes };
}

/** What a cache must be for a snapshot to load into it. */
export interface LoadKvSnapshotOptions {
  model: KvSnapshotModel;
  /** Largest id the model knows + 1: ids outside it are refused. */
  vocabSize: number;
  /** Longest sequence the model takes. */
  contextLength: number;
}

/**
 * Reads `file`, checks it belongs to this model and is whole, and puts its sequence into `cache` (replacing what it
 * held). Throws KvSnapshotError (`details.reason`: 'read', 'format', 'version', 'truncated', 'checksum', 'model',
 * 'shape') before touching the cache.
 */
export function loadKvSnapshot(cache: KeyValueCache, file: string, options: LoadKvSnapshotOptions): KvSnapshotHeader {
  const fail = (reason: string, message: string, cause?: unknown): never => {
    throw new KvSnapshotError(`KV snapshot ${file}: ${message}`, { cause, details: { file, reason } });
  };
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (cause) {
    return fail('read', `cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}). Check the path, or generate without it.`, cause);
  }
  if (buffer.length < prefixBytes || !buffer.subarray(0, magic.length).equals(magic)) {
    return fail('format', 'is not a KV snapshot (no AGKVSNAP signature). Delete it; it was not written by saveState.');
  }
  const format = buffer.readUInt32LE(magic.length);
  if (format !== KV_SNAPSHOT_FORMAT) {
    return fail('version', `has format version ${format}; this version of autoglm reads version ${KV_SNAPSHOT_FORMAT}. Delete it and save the state again.`);
  }
  const headerLength = buffer.readUInt32LE(magic.length + 4);
  if (buffer.length < prefixBytes + headerLength) return fail('truncated', `is truncated (${buffer.length} bytes, shorter than its header). Delete it.`);
  let header: KvSnapshotHeader;
  try {
    header = JSON.parse(buffer.subarray(prefixBytes, prefixBytes + headerLength).toString('utf8')) as KvSnapshotHeader;
  } catch (cause) {
    return fail('checksum', 'has a header that is not valid JSON: the file is corrupt. Delete it.', cause);
  }
  const elementBytes = header.kvType === 'float16' ? 2 : 4;
  const counts = [header.tokens, header.layers, header.kvHeads, header.headDim];
  if (!counts.every((value) => Number.isInteger(value) && value >= 0) || (header.kvType !== 'float16' && header.kvType !== 'float32')) {
    return fail('checksum', 'has a header with invalid shape fields: the file is corrupt. Delete it.');
  }
  const layerBytes = header.kvHeads * header.tokens * header.headDim * elementBytes;
  const bodyStart = prefixBytes + headerLength;
  const expected = bodyStart + header.tokens * 4 + 2 * header.layers * layerBytes + checksumBytes;
  if (buffer.length !== expected) {
    return fail(buffer.length < expected ? 'truncated' : 'checksum', `is ${buffer.length} bytes, its header promises ${expected}: the file is ${buffer.length < expected ? 'truncated (a crash or a full disk while copying)' : 'corrupt'}. Delete it.`);
  }
  const sum = createHash('sha256').update(buffer.subarray(0, expected - checksumBytes)).digest();
  if (!sum.equals(buffer.subarray(expected - checksumBytes))) return fail('checksum', 'does not match its checksum: the file is corrupt. Delete it.');

  if (header.model?.fingerprint !== options.model.fingerprint) {
    return fail(
      'model',
      `was saved from model ${header.model?.name ?? 'unknown'} (fingerprint ${String(header.model?.fingerprint).slice(0, 12)}), not ${options.model.name} (${options.model.fingerprint.slice(0, 12)}). Load it into the model that saved it, or delete it.`,
    );
  }
  const layout = cache.layout;
  if (header.kvType !== layout.type || header.layers !== layout.layers || header.kvHeads !== layout.kvHeads || header.headDim !== layout.headDim) {
    return fail(
      'shape',
      `holds ${header.kvType} KV of ${header.layers} layers x ${header.kvHeads} heads x ${header.headDim}, the model's cache is ${layout.type} ${layout.layers} x ${layout.kvHeads} x ${layout.headDim}. Delete it.`,
    );
  }
  if (header.tokens > options.contextLength) return fail('shape', `holds ${header.tokens} positions, more than the model's context of ${options.contextLength}. Delete it.`);
  const tokenIds = Array.from(new Int32Array(buffer.buffer.slice(buffer.byteOffset + bodyStart, buffer.byteOffset + bodyStart + header.tokens * 4)));
  const outside = tokenIds.findIndex((id) => id < 0 || id >= options.vocabSize);
  if (outside !== -1) return fail('model', `token ${outside} is id ${tokenIds[outside]}, outside the vocabulary [0, ${options.vocabSize}): it belongs to another model. Delete it.`);

  const keys: KvArray[] = [];
  const values: KvArray[] = [];
  let offset = bodyStart + header.tokens * 4;
  const take = (): KvArray => {
    // A copy of its own (aligned, not a view of the file buffer): the cache keeps it as a tensor's data.
    const bytes = buffer.buffer.slice(buffer.byteOffset + offset, buffer.byteOffset + offset + layerBytes);
    offset += layerBytes;
    return header.kvType === 'float16' ? new Uint16Array(bytes) : new Float32Array(bytes);
  };
  for (let layer = 0; layer < header.layers; layer++) {
    keys.push(take());
    values.push(take());
  }
  cache.importState({ tokenIds, keys, values });
  return header;
}

/**
 * The identity of a loaded model for its snapshots: config.json, the tokenizer's size, the layout, dtype and graph
 * file (its name, size and first and last 64 KiB, external data files likewise), and the KV type and shape.
 * Sampling the weights instead of hashing them keeps this fast for multi-GB graphs; a re-export with other weights
 * changes the sampled bytes.
 */
export function kvSnapshotModel(files: ModelFiles, layout: Pick<KvCacheLayout, 'layers' | 'kvHeads' | 'headDim' | 'type'>): KvSnapshotModel {
  const hash = createHash('sha256');
  hash.update(readFileSync(files.configFile));
  hash.update(JSON.stringify({ layout: files.layout, dtype: files.dtype ?? null, graph: basename(files.onnxFile), tokenizer: statSync(files.tokenizerFile).size, kv: layout }));
  for (const file of [files.onnxFile, ...files.externalDataFiles]) sampleFile(hash, file);
  return { fingerprint: hash.digest('hex'), name: `${files.directory} (${basename(files.onnxFile)})` };
}

function sampleFile(hash: Hash, file: string): void {
  const sample = 64 * 1024;
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(sample, size));
    readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(sample, size));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    hash.update(`${basename(file)}:${size}:`).update(head).update(tail);
  } finally {
    closeSync(fd);
  }
}

function bytesOf(array: KvArray): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

const stateOptionKeys = new Set(['tokenIds', 'meta']);

/** GlmModel.saveState's options, checked at the boundary: unknown keys and wrong types are refused. */
export function checkSaveStateOptions(options: SaveStateOptions): void {
  const unknown = Object.keys(options).filter((key) => !stateOptionKeys.has(key));
  if (unknown.length > 0) {
    throw new KvSnapshotError(`GlmModel.saveState: unknown option ${unknown.join(', ')}; the options are tokenIds and meta.`, { details: { reason: 'options', unknown } });
  }
  if (options.tokenIds !== undefined && (!Array.isArray(options.tokenIds) || !options.tokenIds.every((id) => Number.isInteger(id)))) {
    throw new KvSnapshotError('GlmModel.saveState: tokenIds must be an array of integer token ids.', { details: { reason: 'options', field: 'tokenIds' } });
  }
  if (options.meta !== undefined && (typeof options.meta !== 'object' || options.meta === null || !Object.values(options.meta).every((value) => typeof value === 'string'))) {
    throw new KvSnapshotError('GlmModel.saveState: meta must be an object of strings.', { details: { reason: 'options', field: 'meta' } });
  }
}
