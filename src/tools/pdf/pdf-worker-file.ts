/**
 * Where the PDF worker's JavaScript is: `pdf-worker.js` beside the bundle in the built package (a tsup entry), or, in
 * a source checkout, pdf-worker.ts bundled once per process with esbuild (a dev dependency) into
 * node_modules/.cache. A Worker's file is transformed neither by vitest nor by tsx on Node 20.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DocumentError } from '../../errors';

let sourceBundle: string | undefined;

export function pdfWorkerFile(): string {
  const here = moduleFile();
  const built = join(dirname(here), 'pdf-worker.js');
  if (existsSync(built)) return built;
  sourceBundle ??= bundle(here, join(dirname(here), 'pdf-worker.ts'), built);
  return sourceBundle;
}

function bundle(here: string, source: string, built: string): string {
  const require = createRequire(here);
  let esbuild: typeof import('esbuild');
  try {
    if (!existsSync(source)) throw new Error(`${source} does not exist`);
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch (error) {
    throw new DocumentError(
      `Cannot start the PDF worker: neither ${built} (the built package) nor esbuild (to bundle ${source} in a source checkout) is present. Run \`npm run build\` or \`npm ci\`.`,
      { cause: error, details: { file: built, cause: 'worker-missing' } },
    );
  }
  const output = esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', write: false })
    .outputFiles[0]!.text;
  // Beside node_modules, so that the bundle's bare import of pdf-parse resolves; named by content.
  const nodeModules = join(dirname(require.resolve('esbuild')), '..', '..');
  const file = join(nodeModules, '.cache', 'autoglm-pdf-worker', `${createHash('sha256').update(output).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, output);
    renameSync(partial, file);
  }
  return file;
}

function moduleFile(): string {
  // import.meta.url in ESM (and under vitest); the CommonJS build has no import.meta but has __filename.
  const metaUrl: string | undefined = import.meta.url;
  return metaUrl === undefined ? __filename : fileURLToPath(metaUrl);
}
