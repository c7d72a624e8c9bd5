/**
 * Local folders of pdf.js data files (character maps, standard fonts, WebAssembly decoders) so that pdf.js never
 * looks for them elsewhere. In Node, pdf.js reads these through `fs`; without them it would only warn and render
 * some CJK or standard-font text poorly, so a failed lookup falls back to leaving them unset.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PdfjsLocalAssets {
  cMapUrl?: string;
  standardFontDataUrl?: string;
  wasmUrl?: string;
}

let cached: PdfjsLocalAssets | undefined;

/** This module's URL in both builds, for `createRequire` lookups of packages beside it. */
export function moduleUrl(): string {
  // In the CommonJS build `import.meta.url` is not defined; fall back to this file's CommonJS path.
  try {
    const url = import.meta.url;
    if (typeof url === 'string' && url.length > 0) return url;
  } catch {
    // ignored: handled below
  }
  return pathToFileURL(typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js')).href;
}

/** The pdfjs-dist folders bundled with pdf-parse, as directory paths ending in a separator. */
export function pdfjsLocalAssets(): PdfjsLocalAssets {
  if (cached) return cached;
  try {
    const fromHere = createRequire(moduleUrl());
    // pdfjs-dist is pdf-parse's dependency: resolve it from pdf-parse so strict installs (pnpm) still find it.
    const fromPdfParse = createRequire(fromHere.resolve('pdf-parse'));
    const root = dirname(fromPdfParse.resolve('pdfjs-dist/package.json'));
    cached = {
      cMapUrl: join(root, 'cmaps') + '/',
      standardFontDataUrl: join(root, 'standard_fonts') + '/',
      wasmUrl: join(root, 'wasm') + '/',
    };
  } catch {
    cached = {};
  }
  return cached;
}
