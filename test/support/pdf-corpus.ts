/**
 * The shared financial filings and the analyst question set, for the PDF tests and benchmark. The corpus lives
 * beside the repository (`../shared/corpus/financial`); callers skip with a clear message when it is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import type { PdfPage } from '../../src/tools/pdf/read-pdf';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = resolve(repoRoot, '../shared/corpus/financial');
export const corpusPresent = existsSync(corpusDir);
/** Whether poppler's pdftotext (the reference the corpus tests compare with) is installed. */
export const popplerPresent = hasPdftotext();
export const corpusMissingMessage = `The shared financial corpus is absent (looked in ${corpusDir}); skipping the tests that read the real filings.`;

export interface AnalystQuestion {
  id: string;
  file: string;
  question: string;
  pages: number[];
  heldOut: boolean;
}

export type FairQuestionKind = 'income' | 'balance' | 'cashflow' | 'segment' | 'guidance' | 'risk' | 'per-share' | 'footnote' | 'mdna';

/** A question of the fair set (test/fixtures/financial-questions-fair.json): written from the filings, split by a seed. */
export interface FairQuestion {
  id: string;
  file: string;
  kind: FairQuestionKind;
  /** The answer is a figure rather than a description. */
  numeric: boolean;
  question: string;
  /** Every 1-based page that answers the question. */
  pages: number[];
  /** One quote per answering page: an exact substring of that page's whitespace-collapsed `pdftotext -layout`. */
  evidence: Array<{ page: number; quote: string }>;
  split: 'tune' | 'heldout';
}

export interface FairQuestionSet {
  description: string;
  split: { seed: number; procedure: string };
  questions: FairQuestion[];
}

export function loadFairQuestionSet(): FairQuestionSet {
  return JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/financial-questions-fair.json'), 'utf8')) as FairQuestionSet;
}

export function loadQuestions(): AnalystQuestion[] {
  const raw = JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/financial-questions.json'), 'utf8')) as {
    questions: AnalystQuestion[];
  };
  return raw.questions;
}

/** The baseline the brief measures against: plain MiniSearch BM25 over whole pages, default settings. */
export function baselineSearch(pages: PdfPage[]): (question: string, topK: number) => number[] {
  const index = new MiniSearch<{ id: number; text: string }>({ fields: ['text'] });
  index.addAll(pages.map((page) => ({ id: page.number, text: page.text })));
  return (question, topK) =>
    index
      .search(question)
      .slice(0, topK)
      .map((result) => result.id as number);
}

export interface RecallReport {
  at1: number;
  at3: number;
  at5: number;
  count: number;
}

/** Share of questions with at least one answer page among the first k pages returned. */
export function recall(results: Array<{ expected: number[]; pages: number[] }>): RecallReport {
  const at = (k: number): number =>
    results.filter(({ expected, pages }) => pages.slice(0, k).some((page) => expected.includes(page))).length / Math.max(1, results.length);
  return { at1: at(1), at3: at(3), at5: at(5), count: results.length };
}

function hasPdftotext(): boolean {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
