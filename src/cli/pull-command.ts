/**
 * `autoglm pull <hub-repo-id>`: THE ONE COMMAND THAT USES THE NETWORK. Lists a model's files with
 * @huggingface/transformers' hub utilities (ModelRegistry) and downloads them from its configured hub host into a
 * local directory, with a progress bar. Everything else in autoglm loads local directories only
 * (`env.allowRemoteModels` stays false outside this file; a test checks that).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelLoadError, UsageError } from '../errors';
import { DTYPE_SUFFIXES, type ModelDtype } from '../models/model-files';
import { exitCodes, type CliContext } from './cli-context';
import { parseCommandLine } from './parse-command-line';
import { ProgressLine } from './progress-line';
import { defaultCacheDir } from './tiny-model-cache';

export const pullHelp = `Usage: autoglm pull <hub-repo-id> [--dtype D] [--dir DIR] [--revision REV]

Downloads a GLM ONNX export (e.g. onnx-community/glm-edge-1.5b-chat-ONNX) from the Hugging Face Hub.
This is the ONLY autoglm command that uses the network; every other command, and the library, loads local
directories only. Then run with --model DIR.

Options:
  --dtype D        Weights to fetch: ${Object.keys(DTYPE_SUFFIXES).join(', ')} (default q4)
  --dir DIR        Where to write the model (default $AUTOGLM_CACHE_DIR/models/<owner>--<name>)
  --revision REV   Branch, tag or commit (default main)
  --json           Print { directory, files } as JSON
  -h, --help       Show this help`;

/** owner/name as the hub spells repository ids. */
const repoIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

export interface PullArguments {
  repoId: string;
  dtype: ModelDtype;
  directory: string;
  revision: string;
  json: boolean;
}

/** Validates the command line before anything touches the network. */
export function parsePullArguments(args: string[], context: CliContext): PullArguments | 'help' {
  const { values, positionals } = parseCommandLine('pull', args, {
    dtype: { type: 'string' },
    dir: { type: 'string' },
    revision: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError('pull: expected one hub repository id, e.g. onnx-community/glm-edge-1.5b-chat-ONNX.');
  const repoId = positionals[0]!;
  if (!repoIdPattern.test(repoId) || repoId.includes('..')) {
    throw new UsageError(`pull: "${repoId}" is not a hub repository id; expected owner/name, e.g. onnx-community/glm-edge-1.5b-chat-ONNX.`);
  }
  const dtype = values.dtype ?? 'q4';
  if (!(dtype in DTYPE_SUFFIXES)) throw new UsageError(`pull: --dtype must be one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}, got "${dtype}".`);
  const revision = values.revision ?? 'main';
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(revision) || revision.includes('..')) throw new UsageError(`pull: --revision "${revision}" is not a branch, tag or commit.`);
  const directory = path.resolve(context.cwd, values.dir ?? path.join(defaultCacheDir(context.cwd, context.env), 'models', repoId.replace('/', '--')));
  return { repoId, dtype: dtype as ModelDtype, directory, revision, json: values.json === true };
}

export async function pullCommand(args: string[], context: CliContext): Promise<number> {
  const parsed = parsePullArguments(args, context);
  if (parsed === 'help') {
    context.stdout.write(`${pullHelp}\n`);
    return exitCodes.ok;
  }
  const { repoId, dtype, directory, revision } = parsed;
  const { env, ModelRegistry } = await import('@huggingface/transformers');
  // The one place remote loading is switched on: this process only downloads.
  env.allowRemoteModels = true;
  context.stderr.write(`autoglm pull: downloading ${repoId} (${dtype}) from ${env.remoteHost} into ${directory} (network use)\n`);
  let files: string[];
  try {
    files = await ModelRegistry.get_files(repoId, { dtype, include_processor: false });
  } catch (cause) {
    throw new ModelLoadError(`pull: cannot list the files of ${repoId} on ${env.remoteHost}: ${(cause as Error).message}`, { cause, details: { repoId } });
  }
  const progress = new ProgressLine({ stream: context.stderr, disabled: parsed.json });
  const base = env.remoteHost.replace(/\/?$/, '/') + env.remotePathTemplate.replaceAll('{model}', repoId).replaceAll('{revision}', encodeURIComponent(revision));
  for (const [index, file] of files.entries()) {
    const target = path.join(directory, file);
    if (!target.startsWith(directory + path.sep)) throw new ModelLoadError(`pull: the hub listed a file outside the model folder: ${file}.`);
    await mkdir(path.dirname(target), { recursive: true });
    const response = await fetch(new URL(file, base));
    if (!response.ok || response.body === null) {
      throw new ModelLoadError(`pull: ${file} of ${repoId}: HTTP ${response.status} ${response.statusText}.`, { details: { repoId, file } });
    }
    const total = Number(response.headers.get('content-length') ?? 0);
    let received = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
      progress.bar(index + 1, files.length, `files, ${file}: ${megabytes(received)}${total > 0 ? `/${megabytes(total)}` : ''} MB`);
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
  }
  progress.clear();
  if (parsed.json) context.stdout.write(`${JSON.stringify({ directory, repoId, dtype, revision, files }, null, 2)}\n`);
  else context.stdout.write(`Pulled ${files.length} files of ${repoId} into ${directory}\nRun with: --model ${directory}\n`);
  return exitCodes.ok;
}
