/**
 * The URL of the calling module, in both builds: ESM (and vitest) pass `import.meta.url`; the CommonJS build has no
 * `import.meta` (esbuild leaves it undefined there) but has `__filename`, which is the bundle file itself.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function moduleUrl(importMetaUrl: string | undefined): string {
  if (typeof importMetaUrl === 'string' && importMetaUrl.length > 0) return importMetaUrl;
  return pathToFileURL(typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js')).href;
}
