/**
 * Full-text search over a PDF's page chunks, for analyst questions on financial filings. MiniSearch does BM25 over
 * stemmed chunk text (the question's words plus financial synonyms and word variants, weighted lower; words common
 * to most of the document dropped). The best candidates are then re-ranked by reciprocal rank fusion of four
 * general signals: BM25 itself; page structure (the statement the question names or implies, how numeric the chunk
 * is, the concept's exact phrases, the years and period asked for); a table row whose label the question names; and
 * the pair of adjacent lines holding most of the question's rare words. No signal is learnt from a question set.
 */
import MiniSearch from 'minisearch';
import { analyzeQuestion, type AnalyzedQuestion } from './analyze-question';
import { chunkPages, type ChunkOptions, type PageChunk } from './page-chunks';
import type { PdfPage } from './read-pdf';
import { SearchOptionsError } from '../../errors';
import { concepts } from './financial-vocabulary';
import { stem, stems, words } from './search-text';

export interface PdfSearchHit {
  /** 1-based page number. */
  page: number;
  /** The best-matching chunk of that page. */
  text: string;
  /** Relevance, higher is better; comparable within one search only. */
  score: number;
}

export interface PdfSearchOptions {
  /** Number of hits to return. Defaults to 5. */
  topK?: number;
  /** Return at most one hit (its best chunk) per page. Defaults to true. */
  onePerPage?: boolean;
}

/** Weights of the re-ranking signals; exported for the benchmark and for callers who want to tune. */
export interface RankingWeights {
  conceptPhrase: number;
  namedStatement: number;
  impliedStatement: number;
  numeric: number;
  year: number;
  period: number;
  /** Reciprocal rank fusion constant: lower lets each signal's first places count for more. */
  fusionK: number;
  /** Weight of each fused signal: BM25, page structure, table row label, line window. */
  fusionWeights: [number, number, number, number];
  /** BM25 candidates re-ranked per search. */
  candidates: number;
  /** Question words found in more than this share of the document's chunks are dropped from the query. */
  commonTermShare: number;
}

export interface PdfSearchIndexOptions extends ChunkOptions {
  /** Ranking weights to override; the rest come from `defaultRankingWeights`. */
  weights?: Partial<RankingWeights>;
}

const optionNames = new Set(['maxChars', 'overlapLines', 'headingLines', 'weights']);

function resolveWeights(options: PdfSearchIndexOptions): RankingWeights {
  for (const name of Object.keys(options)) {
    if (!optionNames.has(name)) {
      throw new SearchOptionsError(`PdfSearchIndex.fromPages: unknown option "${name}"; expected one of ${[...optionNames].join(', ')}.`, { details: { option: name } });
    }
  }
  const weights = { ...defaultRankingWeights };
  for (const [name, value] of Object.entries(options.weights ?? {})) {
    if (!(name in defaultRankingWeights)) {
      throw new SearchOptionsError(`PdfSearchIndex.fromPages: unknown ranking weight "${name}"; expected one of ${Object.keys(defaultRankingWeights).join(', ')}.`, {
        details: { weight: name },
      });
    }
    const values = Array.isArray(value) ? value : [value];
    const expectedLength = name === 'fusionWeights' ? defaultRankingWeights.fusionWeights.length : 1;
    if (values.length !== expectedLength || values.some((entry) => typeof entry !== 'number' || !Number.isFinite(entry))) {
      throw new SearchOptionsError(
        `PdfSearchIndex.fromPages: weight "${name}" must be ${expectedLength === 1 ? 'a finite number' : `${expectedLength} finite numbers`}, got ${JSON.stringify(value)}.`,
        { details: { weight: name } },
      );
    }
    (weights as Record<string, unknown>)[name] = value;
  }
  return weights;
}

export const defaultRankingWeights: RankingWeights = {
  conceptPhrase: 0.6,
  namedStatement: 0.9,
  impliedStatement: 0.7,
  numeric: 0.5,
  year: 0.2,
  period: 0.25,
  fusionK: 10,
  fusionWeights: [1, 1.5, 1, 1],
  candidates: 100,
  commonTermShare: 0.5,
};

const MIN_CHUNKS_FOR_COMMON_TERMS = 20;
const ROW_LABEL_MIN_MATCH = 0.5;

function tokenize(text: string): string[] {
  return words(text.replace(/&/g, ' '));
}

const vocabularyTerms = new Set(concepts.flatMap((concept) => concept.phrases.flatMap((phrase) => stems(phrase.replace(/&/g, ' ')))));

/**
 * How well the question names one of the chunk's table rows: the share of the row label's words the question uses,
 * damped for one-word labels. 1 when a row reads like the question's figure ("Interest expense 1,437 946").
 */
function rowLabelMatch(chunk: PageChunk, questionTerms: Set<string>): number {
  let best = 0;
  for (const words of chunk.rowLabels) {
    let matched = 0;
    for (const word of words) if (questionTerms.has(word)) matched++;
    const score = (matched / words.length) * Math.min(1, matched / 2);
    if (score > best) best = score;
  }
  // A row the question only brushes ("Securities Exchange Act of 1934" for "shares exchanged") is not named by it.
  return best >= ROW_LABEL_MIN_MATCH ? best : 0;
}

/** The best pair of adjacent lines: the share of the question's (IDF-weighted) words it holds, squared. */
function lineWindowMatch(chunk: PageChunk, terms: Array<{ term: string; weight: number }>): number {
  let total = 0;
  for (const { weight } of terms) total += weight;
  if (total === 0) return 0;
  let best = 0;
  for (const window of chunk.lineWindows) {
    let found = 0;
    for (const { term, weight } of terms) if (window.has(term)) found += weight;
    if (found > best) best = found;
  }
  return (best / total) ** 2;
}

/**
 * Reciprocal rank fusion: each signal ranks the candidates (equal values share a rank, so a signal that is the same
 * for all says nothing) and a candidate scores the sum of weight / (k + rank) over the signals.
 */
export function reciprocalRankFusion(signals: number[][], k: number, weights: number[] = []): number[] {
  const fused = new Array<number>(signals.length).fill(0);
  const width = signals[0]?.length ?? 0;
  for (let signal = 0; signal < width; signal++) {
    const values = signals.map((row) => row[signal]).sort((a, b) => b - a);
    for (let index = 0; index < signals.length; index++) {
      // Rank = how many candidates score strictly higher on this signal.
      let low = 0;
      let high = values.length;
      const value = signals[index][signal];
      while (low < high) {
        const middle = (low + high) >> 1;
        if (values[middle] > value) low = middle + 1;
        else high = middle;
      }
      fused[index] += (weights[signal] ?? 1) / (k + low + 1);
    }
  }
  return fused;
}

export class PdfSearchIndex {
  readonly #chunks: PageChunk[];
  readonly #search: MiniSearch<PageChunk>;
  readonly #weights: RankingWeights;
  /** In how many chunks each stem occurs. */
  readonly #chunkFrequency = new Map<string, number>();

  private constructor(chunks: PageChunk[], weights: RankingWeights) {
    this.#chunks = chunks;
    this.#weights = weights;
    for (const chunk of chunks) {
      for (const term of new Set(chunk.haystack.trim().split(' '))) this.#chunkFrequency.set(term, (this.#chunkFrequency.get(term) ?? 0) + 1);
    }
    this.#search = new MiniSearch<PageChunk>({
      idField: 'id',
      fields: ['text', 'heading'],
      tokenize,
      processTerm: (term) => (term.length < 2 && !/^[0-9]$/.test(term) ? null : stem(term)),
    });
    this.#search.addAll(chunks);
  }

  /**
   * Index the pages of a document. `weights` overrides some of `defaultRankingWeights`; an unknown option or weight,
   * or a weight that is not a finite number, throws a SearchOptionsError.
   */
  static fromPages(pages: PdfPage[], options: PdfSearchIndexOptions = {}): PdfSearchIndex {
    return new PdfSearchIndex(chunkPages(pages, options), resolveWeights(options));
  }

  get chunkCount(): number {
    return this.#chunks.length;
  }

  /** The best page chunks for `question`, best first. */
  search(question: string, options: PdfSearchOptions = {}): PdfSearchHit[] {
    const topK = options.topK ?? 5;
    const onePerPage = options.onePerPage ?? true;
    const analyzed = analyzeQuestion(question);
    // Words on most of the document's chunks (the company's name, "million") say nothing about where the answer is;
    // financial vocabulary stays, since "net sales" is common in a retailer's report and still names the line.
    // A share of a handful of chunks says little, so short documents keep every word.
    if (this.#chunks.length >= MIN_CHUNKS_FOR_COMMON_TERMS) {
      const common = this.#chunks.length * this.#weights.commonTermShare;
      analyzed.terms = analyzed.terms.filter(({ term }) => vocabularyTerms.has(term) || (this.#chunkFrequency.get(term) ?? 0) <= common);
    }
    if (analyzed.terms.length === 0) return [];
    const termWeights = new Map(analyzed.terms.map(({ term, weight }) => [term, weight]));
    const results = this.#search.search(analyzed.terms.map(({ term }) => term).join(' '), {
      tokenize: (text) => text.split(' '),
      processTerm: (term) => term,
      boost: { heading: 1.5 },
      boostTerm: (term) => termWeights.get(term) ?? 1,
      combineWith: 'OR',
    });
    if (results.length === 0) return [];
    const questionTerms = new Set(analyzed.terms.map(({ term }) => term));
    const weightedTerms = analyzed.terms.map(({ term, weight }) => ({ term, weight: weight * this.#inverseFrequency(term) }));
    // Reciprocal rank fusion of four views of each candidate: BM25, the page's structure (statement, figures, years,
    // period, concept phrases), a table row the question names, and two lines holding the question's rare words.
    const candidates = results.slice(0, this.#weights.candidates).map((result) => {
      const chunk = this.#chunks[result.id as number];
      const signals = [
        result.score,
        this.#boost(chunk, analyzed),
        analyzed.quantitative ? rowLabelMatch(chunk, questionTerms) : 0,
        lineWindowMatch(chunk, weightedTerms),
      ];
      return { chunk, signals };
    });
    const fused = reciprocalRankFusion(
      candidates.map(({ signals }) => signals),
      this.#weights.fusionK,
      this.#weights.fusionWeights,
    );
    const ranked = candidates.map(({ chunk }, index) => ({ chunk, score: fused[index] }));
    ranked.sort((a, b) => b.score - a.score);
    const hits: PdfSearchHit[] = [];
    const seen = new Set<number>();
    for (const { chunk, score } of ranked) {
      if (onePerPage && seen.has(chunk.page)) continue;
      seen.add(chunk.page);
      hits.push({ page: chunk.page, text: chunk.text, score: Math.round(score * 1e4) / 1e4 });
      if (hits.length >= topK) break;
    }
    return hits;
  }

  #inverseFrequency(term: string): number {
    return Math.log(1 + this.#chunks.length / (1 + (this.#chunkFrequency.get(term) ?? 0)));
  }

  #boost(chunk: PageChunk, question: AnalyzedQuestion): number {
    const weights = this.#weights;
    let boost = 0;
    for (const { phraseKeys } of question.concepts) {
      if (phraseKeys.some((key) => chunk.haystack.includes(key))) boost += weights.conceptPhrase;
    }
    if (chunk.statement !== undefined) {
      if (question.statement === chunk.statement) boost += weights.namedStatement;
      else if (question.statement === undefined && question.impliedStatements.has(chunk.statement)) boost += weights.impliedStatement;
    }
    if (question.quantitative) boost += weights.numeric * Math.min(1, chunk.numericDensity / 0.35);
    if (question.years.some((year) => chunk.years.has(year))) boost += weights.year;
    if (question.period !== undefined && chunk.periods.has(question.period)) boost += weights.period;
    return boost;
  }
}
