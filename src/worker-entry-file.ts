/**
 * Where a worker thread's JavaScript is: `<entry>.js` beside the bundle in the built package (a tsup entry), or, in a
 * source checkout, `<entry>.ts` bundled once per process with esbuild (a dev dependency) into node_modules/.cache. A
 * Worker's file is transformed neither by vitest nor by tsx on Node 20. Used by GlmModel's graph worker and readPdf's
 * PDF worker.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const bundles = new Map<string, string>();

/**
 * The file to give `new Worker(...)` for `entry` (e.g. `pdf-worker`), found from `moduleFile`, the calling module's
 * own path (its `import.meta.url` as a path, or `__filename` in the CommonJS build). `missing` makes the caller's
 * typed error when neither the built file nor esbuild is there.
 */
export function workerEntryFile(moduleFile: string, entry: string, missing: (message: string, cause: unknown) => Error): string {
  const directory = dirname(moduleFile);
  const built = join(directory, `${entry}.js`);
  if (existsSync(built)) return built;
  const source = join(directory, `${entry}.ts`);
  let file = bundles.get(source);
  if (file === undefined) {
    file = bundle(moduleFile, source, built, entry, missing);
    bundles.set(source, file);
  }
  return file;
}

function bundle(here: string, source: string, built: string, entry: string, missing: (message: string, cause: unknown) => Error): string {
  const require = createRequire(here);
  let esbuild: typeof import('esbuild');
  try {
    if (!existsSync(source)) throw new Error(`${source} does not exist`);
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch (error) {
    throw missing(`neither ${built} (the built package) nor esbuild (to bundle ${source} in a source checkout) is present. Run \`npm run build\` or \`npm ci\``, error);
  }
  const output = esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', write: false })
    .outputFiles[0]!.text;
  // Beside node_modules, so that the bundle's bare imports resolve; named by content.
  const nodeModules = join(dirname(require.resolve('esbuild')), '..', '..');
  const file = join(nodeModules, '.cache', `autoglm-${entry}`, `${createHash('sha256').update(output).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, output);
    renameSync(partial, file);
  }
  return file;
}
