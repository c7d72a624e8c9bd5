import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// `npm run test:package`: the packed tarball in a consumer project, and the lazy entry points (the base config
// leaves the tarball test out of `npm test`).
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/package/**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
