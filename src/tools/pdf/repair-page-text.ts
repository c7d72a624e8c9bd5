/**
 * Text hygiene at the source, so that search, key figures and tables all see clean words.
 *
 * 1. Lost ligatures. pdf.js already turns named ligature glyphs (`fi`, `f_f`, `uniFB01`, Differences encodings) into
 *    letters: its glyph list maps them and `getTextContent` NFKC-normalises U+FB00-FB06. What reaches us as U+0000 is
 *    a glyph whose font says nothing usable: the eBay and Costco releases use Type 3 fonts whose ToUnicode maps the
 *    ligature codes explicitly to <0000> and whose glyph names are glyph ids (`/gE9`). poppler loses them too. For
 *    those, each word holding NULs is tried with the five Latin f-ligatures (ff, fi, fl, ffi, ffl) in place of each NUL;
 *    a candidate is taken only when it is a known word (an English word list or a word the document itself prints) and
 *    no other candidate is; the rest become U+FFFD and are counted, never kept as NUL.
 * 2. Line-end hyphenation. `compre-\nhensive` is joined when a lower-case fragment + hyphen ends a line, the next
 *    line starts with a lower-case letter, the document never prints the hyphenated form on one line, and either the
 *    document prints the joined word elsewhere or the joined word is in the word list while the tail alone is not a
 *    word (`hensive`, `ment`). So `long-term`, `year-over-year`, `co-branded`, `e-commerce` keep their hyphen: in
 *    these filings almost every line-end hyphen is a real compound. Anything else is left as printed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { moduleUrl } from './pdfjs-local-assets';

export interface TextHygieneReport {
  /** NUL glyphs replaced by the one ligature that makes a known word. */
  recoveredGlyphs: number;
  /** NUL glyphs no rule could name, replaced by U+FFFD. */
  unrecoveredGlyphs: number;
  /** Line-end hyphens removed to join a word split over two lines. */
  joinedHyphens: number;
}

export interface RepairedPage {
  number: number;
  text: string;
  /** Glyphs left unknown (U+FFFD) on this page; present only when > 0. */
  unrecoveredGlyphs?: number;
}

const ligatures = ['ff', 'fi', 'fl', 'ffi', 'ffl'];
/** Words with more NULs than this are not tried (5^3 candidates is already plenty). */
const maxNulsPerWord = 3;
/** Runs of letters and NULs (linear to scan; runs without a NUL are left as they are). */
const nulWord = /[\p{L}\0]+/gu;
const lineEndHyphen = /(\p{Ll}+)-\n([ \t]*)(\p{Ll}[\p{L}]*)/gu;

let englishWords: Set<string> | undefined;

/** The English word list (an-array-of-english-words, ~275k lower-case words), read once per thread. */
function loadEnglishWords(): Set<string> {
  if (englishWords) return englishWords;
  const require = createRequire(moduleUrl());
  const file = require.resolve('an-array-of-english-words');
  englishWords = new Set(JSON.parse(readFileSync(file, 'utf8')) as string[]);
  return englishWords;
}

/** Repair the page texts of one document; the vocabulary is the word list plus the document's own clean words. */
export function repairPageText(pages: ReadonlyArray<{ number: number; text: string }>): { pages: RepairedPage[]; report: TextHygieneReport } {
  const report: TextHygieneReport = { recoveredGlyphs: 0, unrecoveredGlyphs: 0, joinedHyphens: 0 };
  const needsWork = pages.some((page) => page.text.includes('\0') || /\p{Ll}-\n/u.test(page.text));
  if (!needsWork) return { pages: pages.map((page) => ({ number: page.number, text: page.text })), report };

  // The word list costs ~0.2 s and ~30 MB to load (once per worker thread): only a NUL or an undecided hyphen loads it.
  const dictionary = (): Set<string> => loadEnglishWords();
  const documentWords = new Set<string>();
  const hyphenated = new Set<string>();
  for (const page of pages) {
    // The two halves of a word split at a line end are not words the document prints.
    const printed = page.text.replace(lineEndHyphen, ' ').toLowerCase();
    for (const word of printed.match(/\p{L}+(?:-\p{L}+)*/gu) ?? []) {
      if (word.includes('-')) hyphenated.add(word);
      else documentWords.add(word);
    }
  }
  const known = (word: string): boolean => documentWords.has(word) || dictionary().has(word);

  const repaired = pages.map((page) => {
    let unrecovered = 0;
    let text = !page.text.includes('\0') ? page.text : page.text.replace(nulWord, (word) => {
      const count = [...word.matchAll(/\0/g)].length;
      if (count === 0) return word;
      const choice = count <= maxNulsPerWord ? chooseLigatures(word, known, documentWords) : undefined;
      if (choice !== undefined) {
        report.recoveredGlyphs += count;
        return choice;
      }
      unrecovered += count;
      return word.replace(/\0/g, '\uFFFD');
    });
    // A NUL outside a word (alone between spaces, beside digits): nothing to try, still never kept.
    text = text.replace(/\0/g, () => {
      unrecovered += 1;
      return '\uFFFD';
    });
    report.unrecoveredGlyphs += unrecovered;
    text = text.replace(lineEndHyphen, (match, head: string, indent: string, tail: string) => {
      const joined = `${head}${tail}`;
      // A tail that is a word by itself ("co-branded", "bio-engineered") is a compound unless the document prints it joined.
      const isSplitWord =
        !hyphenated.has(`${head}-${tail}`) &&
        (documentWords.has(joined) || (!documentWords.has(tail) && dictionary().has(joined) && !dictionary().has(tail)));
      if (!isSplitWord) return match;
      report.joinedHyphens += 1;
      // The joined word stays on the first line; the second line keeps its own indentation.
      return `${joined}\n${indent}`;
    });
    return { number: page.number, text, ...(unrecovered > 0 ? { unrecoveredGlyphs: unrecovered } : {}) };
  });
  return { pages: repaired, report };
}

/** The single reading of a NUL-holding word that is a known word, in the word's case; undefined when none or several. */
function chooseLigatures(word: string, known: (word: string) => boolean, documentWords: Set<string>): string | undefined {
  let candidates = [''];
  for (const character of word) {
    candidates = candidates.flatMap((prefix) => (character === '\0' ? ligatures.map((ligature) => prefix + ligature) : [prefix + character]));
  }
  const found = candidates.filter((candidate) => known(candidate.toLowerCase()));
  // Several readings are words ("fit" / "flt" never, but "fled" / "filed" could): the one the document prints wins.
  const chosen = found.length === 1 ? found : found.filter((candidate) => documentWords.has(candidate.toLowerCase()));
  if (chosen.length !== 1) return undefined;
  const letters = word.replace(/\0/g, '');
  return letters.length > 1 && letters === letters.toUpperCase() ? chosen[0]!.toUpperCase() : chosen[0];
}
