import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = fileURLToPath(new URL('./src/', import.meta.url));

export default defineConfig({
  // `autoglm` (as the examples import it) is the sources, as tsconfig.json's `paths` say for tsc and tsx.
  resolve: {
    alias: [
      { find: /^autoglm$/, replacement: `${source}index.ts` },
      { find: /^autoglm\/(.+)$/, replacement: `${source}$1/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The tarball test builds, packs and installs the package: its own script, `npm run test:package`.
    exclude: ['**/node_modules/**', 'test/package/tarball.test.ts'],
    // onnxruntime-node is a native addon: child processes isolate it more reliably than worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
