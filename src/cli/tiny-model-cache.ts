/**
 * The tiny random-weight model that `autoglm run` and `autoglm agent` use when no `--model` is given: built once
 * into the cache folder (no download), reused afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTinyGlm } from '../models/tiny/create-tiny-glm';

export interface TinyModelCacheOptions {
  /** The cache folder. Defaults to `$AUTOGLM_CACHE_DIR`, else `.cache/autoglm` in the working directory. */
  cacheDir: string;
}

/** Bump when the tiny model's options change, so an older cached copy is not reused. */
const tinyModelVersion = 1;
const completeMarker = '.autoglm-complete';

export function defaultCacheDir(cwd: string, env: NodeJS.ProcessEnv): string {
  return path.resolve(cwd, env.AUTOGLM_CACHE_DIR ?? path.join('.cache', 'autoglm'));
}

/** The model directory, and whether it was built now. */
export async function ensureTinyModel(options: TinyModelCacheOptions): Promise<{ directory: string; created: boolean }> {
  const directory = path.join(options.cacheDir, `tiny-glm-v${tinyModelVersion}`);
  if (existsSync(path.join(directory, completeMarker))) return { directory, created: false };
  await mkdir(options.cacheDir, { recursive: true });
  // Built beside its final place and renamed, so an interrupted build never leaves a half model that looks complete.
  const staging = `${directory}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await createTinyGlm(staging, { family: 'glm', seed: 1 });
    await writeFile(path.join(staging, completeMarker), `tiny-glm v${tinyModelVersion}\n`);
    await rm(directory, { recursive: true, force: true });
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process may have finished the same build first.
    if (existsSync(path.join(directory, completeMarker))) return { directory, created: false };
    throw error;
  }
  return { directory, created: true };
}
