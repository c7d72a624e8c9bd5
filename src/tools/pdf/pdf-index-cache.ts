/**
 * A small least-recently-used cache of search indexes keyed by the SHA-256 of the PDF's bytes, so repeated
 * searches of the same document (an agent asks several questions) parse and index it once, whatever its path.
 */
import { createHash } from 'node:crypto';
import { PdfSearchIndex } from './pdf-search-index';
import { readPdf, type ReadPdfOptions } from './read-pdf';

export interface PdfIndexCacheOptions {
  /** Indexes kept. Defaults to 8. */
  maxEntries?: number;
}

export class PdfIndexCache {
  readonly #maxEntries: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used entry first.
  readonly #entries = new Map<string, Promise<PdfSearchIndex>>();

  constructor(options: PdfIndexCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 8;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`Expected \`maxEntries\` to be an integer >= 1, got ${String(maxEntries)}.`);
    }
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The index of `bytes`, built on first use. A failed build is not cached. */
  get(bytes: Uint8Array, readOptions: ReadPdfOptions = {}): Promise<PdfSearchIndex> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const cached = this.#entries.get(key);
    if (cached) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    const building = readPdf(bytes, { ...readOptions, pages: undefined }).then((document) => PdfSearchIndex.fromPages(document.pages));
    this.#entries.set(key, building);
    building.catch(() => {
      if (this.#entries.get(key) === building) this.#entries.delete(key);
    });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return building;
  }

  clear(): void {
    this.#entries.clear();
  }
}
