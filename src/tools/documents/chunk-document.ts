/**
 * Token-bounded chunking: each chunk holds at most `maxTokens` tokens as the model's tokenizer counts them, is cut on
 * paragraph boundaries where possible (then sentences, then words, then characters), never spans two pages, and
 * records the page and character offsets it came from. Chunk text is an exact slice of the page text.
 */
import { DocumentError } from '../../errors';

export interface DocumentPage {
  /** 1-based page number. */
  number: number;
  text: string;
}

export interface DocumentChunk {
  /** 0-based position of the chunk in the document. */
  index: number;
  /** The page the chunk comes from. */
  page: number;
  /** `pages[i].text.slice(start, end)`. */
  text: string;
  /** Tokens of `text` by `countTokens`; never more than `maxTokens`. */
  tokens: number;
  /** Character offset of the chunk in its page's text. */
  start: number;
  /** Character offset just after the chunk in its page's text. */
  end: number;
}

export interface ChunkDocumentOptions {
  /** Most tokens a chunk may hold, as counted by `countTokens`. Required; an integer >= 1. */
  maxTokens: number;
  /**
   * Tokens of the previous chunk (same page only) repeated at the start of the next one, in whole paragraphs or
   * sentences, so that a fact split by a boundary is seen whole once. Defaults to 0; must be below `maxTokens`.
   */
  overlapTokens?: number;
  /** Token count of plain text, e.g. `(text) => model.tokenize(text).length`. Required. */
  countTokens: (text: string) => number;
}

interface Piece {
  start: number;
  end: number;
  tokens: number;
  /** First piece of a paragraph that had to be split: it starts a fresh chunk. */
  opensSplitParagraph: boolean;
}

/** Splits pages into token-bounded chunks; see the module comment. */
export function chunkDocument(pages: readonly DocumentPage[], options: ChunkDocumentOptions): DocumentChunk[] {
  const { maxTokens, overlapTokens = 0, countTokens } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new DocumentError(`Expected chunkDocument option maxTokens to be an integer >= 1, got ${String(maxTokens)}.`, {
      details: { field: 'maxTokens' },
    });
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    throw new DocumentError(
      `Expected chunkDocument option overlapTokens to be an integer >= 0 and below maxTokens (${maxTokens}), got ${String(overlapTokens)}.`,
      { details: { field: 'overlapTokens' } },
    );
  }
  if (typeof countTokens !== 'function') {
    throw new DocumentError('chunkDocument needs a countTokens(text) function, e.g. (text) => model.tokenize(text).length.', {
      details: { field: 'countTokens' },
    });
  }
  const chunks: DocumentChunk[] = [];
  for (const page of pages) {
    const pieces = splitPage(page.text, maxTokens, countTokens);
    for (const chunk of packPieces(page.text, pieces, maxTokens, overlapTokens, countTokens)) {
      chunks.push({ index: chunks.length, page: page.number, ...chunk });
    }
  }
  return chunks;
}

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** Pieces of a page that each fit `maxTokens` on their own, in reading order. */
function splitPage(text: string, maxTokens: number, countTokens: (text: string) => number): Piece[] {
  const pieces: Piece[] = [];
  for (const [start, end] of spans(text, /\n[ \t\r\f\v]*\n\s*/g, 0, text.length)) {
    const tokens = countTokens(text.slice(start, end));
    if (tokens <= maxTokens) {
      pieces.push({ start, end, tokens, opensSplitParagraph: false });
      continue;
    }
    const first = pieces.length;
    splitOversized(text, start, end, maxTokens, countTokens, pieces, 0);
    if (pieces[first]) pieces[first].opensSplitParagraph = true;
  }
  return pieces;
}

/** Levels: 0 sentences, 1 words, 2 characters. */
function splitOversized(
  text: string,
  start: number,
  end: number,
  maxTokens: number,
  countTokens: (text: string) => number,
  pieces: Piece[],
  level: number,
): void {
  if (level === 2) {
    let from = start;
    while (from < end) {
      const to = longestFittingPrefix(text, from, end, maxTokens, countTokens);
      const slice = trimSpan(text, from, to);
      if (slice) pieces.push({ start: slice[0], end: slice[1], tokens: countTokens(text.slice(slice[0], slice[1])), opensSplitParagraph: false });
      from = to;
    }
    return;
  }
  const parts =
    level === 0
      ? [...sentenceSegmenter.segment(text.slice(start, end))].map((segment) => trimSpan(text, start + segment.index, start + segment.index + segment.segment.length))
      : [...spans(text, /\s+/g, start, end)];
  for (const part of parts) {
    if (!part) continue;
    const tokens = countTokens(text.slice(part[0], part[1]));
    if (tokens <= maxTokens) pieces.push({ start: part[0], end: part[1], tokens, opensSplitParagraph: false });
    else splitOversized(text, part[0], part[1], maxTokens, countTokens, pieces, level + 1);
  }
}

/** The end of the longest prefix of text[from, end) within `maxTokens`, at least one code point. */
function longestFittingPrefix(text: string, from: number, end: number, maxTokens: number, countTokens: (text: string) => number): number {
  let low = from + codePointLength(text, from);
  let high = end;
  if (countTokens(text.slice(from, high)) <= maxTokens) return high;
  // Invariant: the prefix ending at `low` fits (or is the single code point we must take anyway), `high` does not.
  while (high - low > 1) {
    let middle = (low + high) >>> 1;
    if (isLowSurrogate(text, middle)) middle -= 1;
    if (middle <= low) break;
    if (countTokens(text.slice(from, middle)) <= maxTokens) low = middle;
    else high = middle;
  }
  return low;
}

/** Groups pieces into chunks; counts the exact chunk text at each cut and gives back pieces while it is too long. */
function* packPieces(
  text: string,
  pieces: Piece[],
  maxTokens: number,
  overlapTokens: number,
  countTokens: (text: string) => number,
): Generator<Omit<DocumentChunk, 'index' | 'page'>> {
  const gapTokens = (from: number, to: number) => (to > from ? countTokens(text.slice(from, to)) : 0);
  let overlap: Piece[] = [];
  let fresh: Piece[] = [];
  let estimate = 0;
  let next = 0;

  const startWith = (carried: Piece[]) => {
    overlap = carried;
    fresh = [];
    estimate = sumTokens(carried, gapTokens);
  };

  while (next < pieces.length || fresh.length > 0) {
    const piece = pieces[next];
    if (piece && fresh.length === 0 && overlap.length > 0 && piece.opensSplitParagraph) overlap = [];
    const current = [...overlap, ...fresh];
    const last = current[current.length - 1];
    const added = piece ? (last ? gapTokens(last.end, piece.start) : 0) + piece.tokens : 0;
    if (piece && (fresh.length === 0 || (!piece.opensSplitParagraph && estimate + added <= maxTokens))) {
      // The first new piece of a chunk is always taken (each piece fits alone); overlap gives way below if needed.
      fresh.push(piece);
      estimate += added;
      next += 1;
      continue;
    }
    // Cut: count the exact text; give pieces back (newest first, then the overlap) until it fits.
    let chunkStart = (overlap[0] ?? fresh[0]).start;
    let chunkEnd = fresh[fresh.length - 1].end;
    let tokens = countTokens(text.slice(chunkStart, chunkEnd));
    while (tokens > maxTokens) {
      if (fresh.length > 1) {
        fresh.pop();
        next -= 1;
      } else if (overlap.length > 0) {
        overlap.shift();
      } else {
        break;
      }
      chunkStart = (overlap[0] ?? fresh[0]).start;
      chunkEnd = fresh[fresh.length - 1].end;
      tokens = countTokens(text.slice(chunkStart, chunkEnd));
    }
    yield { text: text.slice(chunkStart, chunkEnd), tokens, start: chunkStart, end: chunkEnd };
    startWith(next < pieces.length ? takeOverlap([...overlap, ...fresh], overlapTokens, gapTokens) : []);
  }
}

/** The trailing pieces of a chunk whose tokens (with the gaps between them) stay within `overlapTokens`. */
function takeOverlap(pieces: Piece[], overlapTokens: number, gapTokens: (from: number, to: number) => number): Piece[] {
  if (overlapTokens === 0) return [];
  const kept: Piece[] = [];
  let total = 0;
  for (let index = pieces.length - 1; index >= 0; index -= 1) {
    const piece = pieces[index];
    const cost = piece.tokens + (kept.length ? gapTokens(piece.end, kept[0].start) : 0);
    if (total + cost > overlapTokens) break;
    kept.unshift(piece);
    total += cost;
  }
  return kept;
}

function sumTokens(pieces: Piece[], gapTokens: (from: number, to: number) => number): number {
  let total = 0;
  pieces.forEach((piece, index) => {
    total += piece.tokens + (index > 0 ? gapTokens(pieces[index - 1].end, piece.start) : 0);
  });
  return total;
}

/** Non-blank spans of text[start, end) between matches of `separator` (a global regex), trimmed of whitespace. */
function* spans(text: string, separator: RegExp, start: number, end: number): Generator<[number, number]> {
  const region = text.slice(start, end);
  let from = 0;
  for (const match of region.matchAll(separator)) {
    const span = trimSpan(text, start + from, start + match.index);
    if (span) yield span;
    from = match.index + match[0].length;
  }
  const span = trimSpan(text, start + from, end);
  if (span) yield span;
}

function trimSpan(text: string, start: number, end: number): [number, number] | undefined {
  while (start < end && /\s/.test(text[start])) start += 1;
  while (end > start && /\s/.test(text[end - 1])) end -= 1;
  return end > start ? [start, end] : undefined;
}

function codePointLength(text: string, index: number): number {
  const code = text.codePointAt(index);
  return code !== undefined && code > 0xffff ? 2 : 1;
}

function isLowSurrogate(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff;
}
