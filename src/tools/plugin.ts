/**
 * Plugins: a named, versioned bundle of tools, added with `registry.use(plugin)` or
 * `registry.use('module-specifier')`.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { PluginLoadError } from '../errors';
import { moduleUrl } from '../module-url';
import { assertNotZod3 } from '../zod-version';
import type { Logger } from '../observability/logger';
import type { Tool } from './tool';

export interface PluginSetupContext {
  /** A child of the registry's logger carrying the plugin name. */
  logger: Logger;
  /** Names of the tools registered before this plugin. */
  registeredTools: readonly string[];
}

export interface Plugin {
  /** Names the plugin in errors and logs, e.g. `acme-finance`. */
  name: string;
  /** The plugin's own version, e.g. `1.2.0`. */
  version: string;
  tools: Tool[];
  /** Runs once, before the plugin's tools are registered; a throw aborts the plugin (nothing is registered). */
  setup?(ctx: PluginSetupContext): void | Promise<void>;
}

/** Declare a plugin with its type checked; returns it unchanged. */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';

/** A zod schema by shape, so plugins built against another copy of zod are accepted. */
const zodSchemaShape = z.custom<z.ZodType>(
  (value) => typeof value === 'object' && value !== null && '_zod' in value && isFunction((value as z.ZodType).safeParseAsync),
  { message: 'expected a zod schema' },
);

const toolShape = z.object({
  name: z.string().min(1),
  description: z.string(),
  input: zodSchemaShape,
  output: zodSchemaShape.optional(),
  timeoutMs: z.number().positive().optional(),
  execute: z.custom<Tool['execute']>(isFunction, { message: 'expected a function' }),
});

const pluginShape = z.object({
  name: z.string().min(1, 'must be a non-empty string'),
  version: z.string().min(1, 'must be a non-empty string'),
  tools: z.array(toolShape),
  setup: z.custom<NonNullable<Plugin['setup']>>(isFunction, { message: 'expected a function' }).optional(),
});

/** Checks the plugin shape; throws PluginLoadError naming `source` and every problem. */
export function validatePlugin(value: unknown, source: string): Plugin {
  const tools = (value as { tools?: unknown } | null)?.tools;
  if (Array.isArray(tools)) {
    for (const [index, tool] of tools.entries()) {
      const name = JSON.stringify((tool as { name?: unknown } | null)?.name ?? index);
      assertNotZod3((tool as { input?: unknown } | null)?.input, `Plugin ${source}, tool ${name}: input`);
      assertNotZod3((tool as { output?: unknown } | null)?.output, `Plugin ${source}, tool ${name}: output`);
    }
  }
  const result = pluginShape.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(plugin)'}: ${issue.message}`)
      .join('; ');
    throw new PluginLoadError(
      `Plugin ${source} is not a valid plugin ({ name, version, tools, setup? }): ${problems}.`,
      { details: { specifier: source, issues: result.error.issues } },
    );
  }
  // Keep the original object: its tools carry their own identity and closures.
  return value as Plugin;
}

/**
 * Imports a plugin from a package name or a file path. Paths (starting with `.`, `/`, a drive letter, or `file:`)
 * resolve against `process.cwd()`. The module must export the plugin as its default export or as `plugin`.
 * TypeScript plugin files load through jiti when no TypeScript loader is active (an installed package running
 * plain Node). URL specifiers other than `file:` (`data:`, `http:`, `node:`, ...) are refused: a plugin is code
 * from a file or a package the user installed, never text built at run time.
 */
export async function loadPlugin(specifier: string): Promise<Plugin> {
  if (typeof specifier !== 'string' || specifier.trim() === '') {
    throw new PluginLoadError(`Plugin specifier must be a package name or a file path, got ${JSON.stringify(specifier)}.`, {
      details: { specifier },
    });
  }
  const scheme = urlScheme(specifier);
  if (scheme !== undefined && scheme !== 'file') {
    throw new PluginLoadError(
      `Plugin specifier "${specifier.slice(0, 60)}${specifier.length > 60 ? '...' : ''}" is a ${scheme}: URL; plugins load only ` +
        'from a package name or a file path (inline code and remote modules are refused). Write the plugin to a file and pass its path.',
      { details: { specifier: specifier.slice(0, 200), scheme, reason: 'url-specifier' } },
    );
  }
  const target = toImportTarget(specifier);
  let module: Record<string, unknown>;
  try {
    module = await importModule(target);
  } catch (cause) {
    throw new PluginLoadError(
      `Plugin "${specifier}" could not be imported (${target}): ${(cause as Error)?.message ?? String(cause)}. ` +
        'Check that the package is installed or the path exists and that the module loads on its own.',
      { cause, details: { specifier, target } },
    );
  }
  const candidate = module.default !== undefined ? module.default : module.plugin;
  if (candidate === undefined) {
    throw new PluginLoadError(
      `Plugin module "${specifier}" exports no plugin: export it as the default export or as \`plugin\` ` +
        `(found exports: ${Object.keys(module).join(', ') || 'none'}).`,
      { details: { specifier, target, exports: Object.keys(module) } },
    );
  }
  return validatePlugin(candidate, `"${specifier}"`);
}

/** The URL scheme of a specifier (`data`, `https`, `file`, ...), or undefined; one letter is a Windows drive. */
function urlScheme(specifier: string): string | undefined {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(specifier);
  return match ? match[1]!.toLowerCase() : undefined;
}

const typeScriptFile = /\.(?:ts|mts|cts|tsx)$/;

/**
 * The module's namespace. A TypeScript file imports natively where a loader is active (tsx in a clone, vitest);
 * under plain Node (an installed package) Node refuses the extension and jiti transpiles it instead.
 */
async function importModule(target: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ target)) as Record<string, unknown>;
  } catch (error) {
    // A package whose entry is TypeScript fails the same way: jiti loads it by name too.
    if ((error as { code?: unknown } | null)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !typeScriptFile.test(String((error as Error).message))) {
      throw error;
    }
  }
  const { createJiti } = await import('jiti');
  // autoglm itself (what a plugin imports its helpers from) stays the installed, prebuilt package.
  const jiti = createJiti(moduleUrl(import.meta.url), { nativeModules: ['autoglm'] });
  return (await jiti.import(target.startsWith('file:') ? fileURLToPath(target) : target)) as Record<string, unknown>;
}

function toImportTarget(specifier: string): string {
  if (specifier.startsWith('file:')) return specifier;
  const isPath = specifier.startsWith('.') || isAbsolute(specifier) || /^[A-Za-z]:[\\/]/.test(specifier);
  return isPath ? pathToFileURL(resolve(process.cwd(), specifier)).href : specifier;
}
