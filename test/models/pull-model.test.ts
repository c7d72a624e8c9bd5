/**
 * pullModel() and hub ids in GlmModel.load: a local HTTP server on 127.0.0.1 plays the hub (transformers.js'
 * `env.remoteHost` points at it), serving a tiny model directory at `/<owner>/<name>/resolve/<revision>/<file>`.
 * Loading by hub id reads the cache the pull wrote, with no network; a missing or interrupted pull is a
 * ModelLoadError naming `npx autoglm pull`.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors';
import { GlmModel } from '../../src/models/glm-model';
import { PULL_MARKER_FILE, resolveModelDirectory } from '../../src/models/model-cache';
import { pullModel, type PullProgress } from '../../src/models/pull-model';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';

describe('pullModel and hub ids', () => {
  let work: string;
  let source: string;
  let server: Server;
  const requested: string[] = [];
  const saved = { remoteHost: env.remoteHost, useFSCache: env.useFSCache, allowRemoteModels: env.allowRemoteModels, cacheDir: process.env.AUTOGLM_CACHE_DIR };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'autoglm-pull-'));
    source = path.join(work, 'hub-source');
    await createTinyGlm(source, { layers: 1, hiddenSize: 32, heads: 2, kvHeads: 1, seed: 3 });
    server = createServer((request, response) => {
      const match = /^\/acme\/tiny-glm\/resolve\/main\/(.+)$/.exec(decodeURIComponent(request.url ?? ''));
      const file = match ? path.join(source, match[1]!) : undefined;
      requested.push(`${request.method} ${request.url}`);
      if (!file || !file.startsWith(source + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' });
      if (request.method === 'HEAD') response.end();
      else createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    env.useFSCache = false;
    process.env.AUTOGLM_CACHE_DIR = path.join(work, 'cache');
  });

  afterAll(async () => {
    Object.assign(env, { remoteHost: saved.remoteHost, useFSCache: saved.useFSCache, allowRemoteModels: saved.allowRemoteModels });
    if (saved.cacheDir === undefined) delete process.env.AUTOGLM_CACHE_DIR;
    else process.env.AUTOGLM_CACHE_DIR = saved.cacheDir;
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  it('a hub id that was never pulled is a ModelLoadError naming the pull command, without a request', async () => {
    const before = requested.length;
    const error = await GlmModel.load('acme/tiny-glm').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(/Model "acme\/tiny-glm" is not in the local model cache .*`npx autoglm pull acme\/tiny-glm`/);
    expect(requested.length).toBe(before);
  });

  it('pulls into the cache with progress, then GlmModel.load(hub id) loads it offline with load progress', async () => {
    const progress: PullProgress[] = [];
    const pulled = await pullModel('acme/tiny-glm', { dtype: 'fp32', onProgress: (event) => progress.push(event) });
    expect(pulled.directory).toBe(path.join(work, 'cache', 'models', 'acme--tiny-glm'));
    expect(pulled.files).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']));
    const graphDone = progress.find((event) => event.file === 'onnx/model.onnx' && event.done);
    expect(graphDone).toMatchObject({ receivedBytes: statSync(path.join(source, 'onnx/model.onnx')).size, fileCount: pulled.files.length });
    expect(existsSync(path.join(pulled.directory, PULL_MARKER_FILE))).toBe(true);

    const before = requested.length;
    const stages: string[] = [];
    const model = await GlmModel.load('acme/tiny-glm', { runIn: 'main', onProgress: ({ stage }) => stages.push(stage) });
    try {
      expect(model.files.directory).toBe(pulled.directory);
      expect(stages).toEqual(['tokenizer', 'graph', 'ready']);
      const result = await model.generate('Hello', { maxNewTokens: 2, temperature: 0 });
      expect(result.tokenIds.length).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
    expect(requested.length).toBe(before);
  });

  it('an interrupted pull (no marker) is refused; a local folder named like a hub id wins over the cache', async () => {
    await rm(path.join(work, 'cache', 'models', 'acme--tiny-glm', PULL_MARKER_FILE));
    expect(() => resolveModelDirectory('acme/tiny-glm')).toThrow(/incomplete download .*Run `npx autoglm pull acme\/tiny-glm` again/);
    await mkdir(path.join(work, 'acme', 'tiny-glm'), { recursive: true });
    expect(resolveModelDirectory('acme/tiny-glm', { cwd: work })).toBe('acme/tiny-glm');
    expect(resolveModelDirectory('hub-source/.', { cwd: work })).toBe('hub-source/.');
    expect(resolveModelDirectory('./models/glm')).toBe('./models/glm');
  });

  it('refuses a malformed repository id before any request', async () => {
    await expect(pullModel('../etc/passwd')).rejects.toThrow(ModelLoadError);
  });
});
