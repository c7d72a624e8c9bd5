import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

/**
 * One bundle entry per subpath of package.json `exports`: `"./tools": { "import": "./dist/tools.js", ... }` builds
 * `src/tools/index.ts` into `dist/tools.{js,cjs,d.ts,d.cts}`. Adding an entry point is one line in package.json.
 */
const packageJson = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
};
const layerEntries = Object.fromEntries(
  Object.keys(packageJson.exports)
    .filter((subpath) => subpath !== '.' && subpath !== './package.json')
    .map((subpath) => {
      const name = subpath.slice(2);
      return [name, `src/${name}/index.ts`];
    }),
);

const publicEntries = { index: 'src/index.ts', ...layerEntries };
const entry = {
  ...publicEntries,
  cli: 'src/cli/main.ts',
  // graph-worker: the worker thread of GlmModel (thread: 'worker'); pdf-worker: readPdf's. Found beside the bundle at
  // run time.
  'graph-worker': 'src/models/graph-worker.ts',
  'pdf-worker': 'src/tools/pdf/pdf-worker.ts',
};

// Native and WebAssembly dependencies are resolved at run time, never bundled.
const external = ['onnxruntime-node', '@huggingface/transformers', '@mlc-ai/web-xgrammar', 'pdf-parse'];

export default defineConfig([
  {
    entry,
    format: ['esm'],
    sourcemap: true,
    clean: true,
    target: 'node20',
    external,
  },
  {
    entry,
    format: ['cjs'],
    sourcemap: true,
    target: 'node20',
    // Shared chunks in the CommonJS build too, so `autoglm` and `autoglm/tools` hold one copy of each class
    // (`instanceof` of an error or a ToolRegistry holds across entry points).
    splitting: true,
    // `import.meta.url` as the chunk's own file URL (splitting emits ESM first, which leaves import.meta in place).
    shims: true,
    external,
    // ESM-only dependencies are bundled into the CommonJS build: `require()` of an ES module only works from Node
    // 20.19, and esbuild's interop reads `.default` of p-queue's namespace as the constructor it is not.
    noExternal: ['p-queue', 'p-timeout', 'stemmer'],
  },
  // Declarations once for both formats (`.d.ts` beside each `.js`, `.d.cts` beside each `.cjs`), public entries only.
  { entry: publicEntries, format: ['esm', 'cjs'], dts: { only: true }, target: 'node20', external },
]);
