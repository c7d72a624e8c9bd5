/**
 * `autoglm pull <hub-repo-id>`: THE ONE COMMAND THAT USES THE NETWORK, through pullModel() (models/pull-model.ts),
 * with a progress bar. Everything else in autoglm loads local directories only.
 */
import path from 'node:path';
import { UsageError } from '../errors';
import { cachedModelDirectory, isHubModelId } from '../models/model-cache';
import { DTYPE_SUFFIXES, type ModelDtype } from '../models/model-files';
import { pullModel } from '../models/pull-model';
import { exitCodes, type CliContext } from './cli-context';
import { parseCommandLine } from './parse-command-line';
import { ProgressLine } from './progress-line';

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
  if (!isHubModelId(repoId)) {
    throw new UsageError(`pull: "${repoId}" is not a hub repository id; expected owner/name, e.g. onnx-community/glm-edge-1.5b-chat-ONNX.`);
  }
  const dtype = values.dtype ?? 'q4';
  if (!(dtype in DTYPE_SUFFIXES)) throw new UsageError(`pull: --dtype must be one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}, got "${dtype}".`);
  const revision = values.revision ?? 'main';
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(revision) || revision.includes('..')) throw new UsageError(`pull: --revision "${revision}" is not a branch, tag or commit.`);
  const directory = path.resolve(context.cwd, values.dir ?? cachedModelDirectory(repoId, { cwd: context.cwd, env: context.env }));
  return { repoId, dtype: dtype as ModelDtype, directory, revision, json: values.json === true };
}

export async function pullCommand(args: string[], context: CliContext): Promise<number> {
  const parsed = parsePullArguments(args, context);
  if (parsed === 'help') {
    context.stdout.write(`${pullHelp}\n`);
    return exitCodes.ok;
  }
  const { repoId, dtype, directory, revision } = parsed;
  context.stderr.write(`autoglm pull: downloading ${repoId} (${dtype}) from the Hugging Face Hub into ${directory} (network use)\n`);
  const progress = new ProgressLine({ stream: context.stderr, disabled: parsed.json });
  const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
  const { files } = await pullModel(repoId, {
    dtype,
    revision,
    directory,
    onProgress: ({ file, fileIndex, fileCount, receivedBytes, totalBytes }) =>
      progress.bar(fileIndex, fileCount, `files, ${file}: ${megabytes(receivedBytes)}${totalBytes > 0 ? `/${megabytes(totalBytes)}` : ''} MB`),
  });
  progress.clear();
  if (parsed.json) context.stdout.write(`${JSON.stringify({ directory, repoId, dtype, revision, files }, null, 2)}\n`);
  else context.stdout.write(`Pulled ${files.length} files of ${repoId} into ${directory}\nRun with: --model ${directory}\n`);
  return exitCodes.ok;
}
