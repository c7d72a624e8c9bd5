/**
 * The local model cache that `autoglm pull` / `pullModel()` write and `GlmModel.load('owner/name')` reads:
 * `$AUTOGLM_CACHE_DIR/models/<owner>--<name>` (default `.cache/autoglm` under the working directory). Loading never
 * touches the network: a hub id that is not in the cache is an error that says which command fetches it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelLoadError } from '../errors';

/** The file a completed pull writes last: a folder without it is an interrupted pull. */
export const PULL_MARKER_FILE = 'autoglm-pull.json';

/** owner/name as the hub spells repository ids. */
const hubIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

export interface ModelCacheOptions {
  /** The cache folder. Defaults to `$AUTOGLM_CACHE_DIR`, else `.cache/autoglm`, resolved against `cwd`. */
  cacheDir?: string;
  /** Defaults to `process.cwd()`. */
  cwd?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** What a completed pull recorded in its marker file. */
export interface PulledModel {
  repoId: string;
  dtype: string;
  revision: string;
  files: string[];
}

export function isHubModelId(value: string): boolean {
  return hubIdPattern.test(value) && !value.includes('..');
}

export function defaultModelCacheDir(options: ModelCacheOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  return path.resolve(cwd, options.cacheDir ?? env.AUTOGLM_CACHE_DIR ?? path.join('.cache', 'autoglm'));
}

/** Where the cache keeps a hub model: `<cacheDir>/models/<owner>--<name>`. */
export function cachedModelDirectory(repoId: string, options: ModelCacheOptions = {}): string {
  return path.join(defaultModelCacheDir(options), 'models', repoId.replace('/', '--'));
}

/**
 * The directory to load for `model`: a directory path as given; a hub id (`owner/name`) that is not an existing
 * local folder maps to its folder in the cache, which must hold a completed pull. Throws ModelLoadError naming
 * the `autoglm pull` command otherwise.
 */
export function resolveModelDirectory(model: string, options: ModelCacheOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  if (!isHubModelId(model) || isDirectory(path.resolve(cwd, model))) return model;
  const directory = cachedModelDirectory(model, options);
  const pull = `npx autoglm pull ${model}` + (options.cacheDir === undefined ? '' : ` --dir ${directory}`);
  if (!isDirectory(directory)) {
    throw new ModelLoadError(
      `Model "${model}" is not in the local model cache (${directory}) and is not a local folder. Download it once with ` +
        `\`${pull}\` (or pullModel() from autoglm; the only network use), or pass the directory of an ONNX export.`,
      { details: { model, directory, fix: pull } },
    );
  }
  const marker = path.join(directory, PULL_MARKER_FILE);
  if (!existsSync(marker)) {
    throw new ModelLoadError(
      `Model "${model}" in ${directory} is an incomplete download (no ${PULL_MARKER_FILE}). Run \`${pull}\` again.`,
      { details: { model, directory, fix: pull } },
    );
  }
  return directory;
}

/** The marker of a completed pull in `directory`, or undefined. */
export function readPulledModel(directory: string): PulledModel | undefined {
  const marker = path.join(directory, PULL_MARKER_FILE);
  return existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as PulledModel) : undefined;
}

function isDirectory(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory();
}
