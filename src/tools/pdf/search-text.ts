/**
 * Word handling shared by the index and the query side of pdf.search, so both see the same terms: lowercase
 * alphanumeric words, thousands separators dropped from numbers, English words reduced to their Porter stem.
 */
import { stemmer } from 'stemmer';

const WORD = /[a-z0-9]+(?:[.,][0-9]{3})*(?:\.[0-9]+)?/g;

/** Lowercase words of `text`; apostrophes are dropped so "company's" and "companys" agree. */
export function words(text: string): string[] {
  return text.toLowerCase().replace(/['’‘]/g, '').match(WORD) ?? [];
}

const stemCache = new Map<string, string>();

/** The Porter stem of an alphabetic word; numbers without their thousands separators. */
export function stem(word: string): string {
  let value = stemCache.get(word);
  if (value === undefined) {
    value = /^[0-9]/.test(word) ? word.replace(/,/g, '') : stemmer(word);
    if (stemCache.size < 100_000) stemCache.set(word, value);
  }
  return value;
}

/** Stemmed terms of `text`, in order. */
export function stems(text: string): string[] {
  return words(text).map(stem);
}

/**
 * A phrase as a key that can be looked for in a `phraseHaystack` with `includes`: its stems joined by single spaces
 * and surrounded by spaces, so it only matches whole words.
 */
export function phraseKey(phrase: string): string {
  return ` ${stems(phrase.replace(/&/g, ' ')).join(' ')} `;
}

/** The text of a chunk prepared for `phraseKey` look-ups. */
export function phraseHaystack(text: string): string {
  return ` ${stems(text.replace(/&/g, ' ')).join(' ')} `;
}

/** Share of the words that are numbers (amounts, percentages, years): high in statements and tables. */
export function numericDensity(text: string): number {
  const all = words(text);
  if (all.length === 0) return 0;
  let numeric = 0;
  for (const word of all) if (/^[0-9]/.test(word)) numeric++;
  return numeric / all.length;
}
