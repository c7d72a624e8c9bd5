/**
 * `autoglm.config.json`: how the CLI sets up the tools of a workflow run. Looked up beside the workflow file (or
 * given with --config); optional.
 *
 * ```json
 * { "plugins": ["./report-plugin.ts"], "roots": ["../data"] }
 * ```
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { WorkflowSpecError } from '../errors';

export interface CliConfig {
  /** The config file, absent when none was found. */
  file: string | undefined;
  /** Plugin specifiers, file paths already resolved against the config's folder. */
  plugins: string[];
  /** Extra folders tools may use, resolved against the config's folder. */
  roots: string[];
}

const configSchema = z
  .object({
    plugins: z.array(z.string().min(1)).default([]).describe('Tool plugins: package names or paths relative to this file'),
    roots: z.array(z.string().min(1)).default([]).describe('Extra folders the tools may read and write'),
  })
  .strict();

export const configFileName = 'autoglm.config.json';

const isPath = (specifier: string) => specifier.startsWith('.') || path.isAbsolute(specifier);

export async function loadCliConfig(options: { workflowFile: string; configFile?: string }): Promise<CliConfig> {
  const file = options.configFile ?? path.join(path.dirname(options.workflowFile), configFileName);
  if (options.configFile === undefined && !existsSync(file)) return { file: undefined, plugins: [], roots: [] };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new WorkflowSpecError(`Cannot read ${file}: ${(cause as Error).message}.`, { cause, details: { file } });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `field "${issue.path.join('.') || '(root)'}": ${issue.message}`).join('; ');
    throw new WorkflowSpecError(`${file}: ${problems}.`, { details: { file } });
  }
  const base = path.dirname(path.resolve(file));
  return {
    file,
    plugins: parsed.data.plugins.map((specifier) => (isPath(specifier) ? path.resolve(base, specifier) : specifier)),
    roots: parsed.data.roots.map((root) => path.resolve(base, root)),
  };
}
