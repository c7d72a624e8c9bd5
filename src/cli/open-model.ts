/**
 * The model of `run` and `agent`: `--model DIR`, else the cached tiny model (built if needed), saying so on stderr.
 */
import type { CliContext } from './cli-context';
import { GlmModel } from '../models/glm-model';
import { defaultCacheDir, ensureTinyModel } from './tiny-model-cache';
import path from 'node:path';

export interface OpenModelOptions {
  /** `--model DIR`. */
  model: string | undefined;
  context: CliContext;
  /** `--sequences N` (GlmModel.load's `sequences`). Defaults to GlmModel's default. */
  sequences?: number;
}

function displayPath(cwd: string, directory: string): string {
  const relative = path.relative(cwd, directory);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? directory : relative;
}

export async function openModel(options: OpenModelOptions): Promise<{ model: GlmModel; directory: string; tiny: boolean }> {
  const { context } = options;
  const loadOptions = { executionProvider: 'cpu' as const, ...(options.sequences === undefined ? {} : { sequences: options.sequences }) };
  if (options.model !== undefined) {
    const directory = path.resolve(context.cwd, options.model);
    return { model: await GlmModel.load(directory, loadOptions), directory, tiny: false };
  }
  const cacheDir = defaultCacheDir(context.cwd, context.env);
  const { directory, created } = await ensureTinyModel({ cacheDir });
  context.stderr.write(
    `autoglm: no --model given: ${created ? 'built' : 'using'} the tiny random-weight GLM model in ${displayPath(context.cwd, directory)}` +
      `${created ? ' (no download; reused next time)' : ''}. It writes nonsense prose; figures that tools extract are real. ` +
      'Pass --model DIR for a real GLM export (see `autoglm pull`).\n',
  );
  return { model: await GlmModel.load(directory, loadOptions), directory, tiny: true };
}
