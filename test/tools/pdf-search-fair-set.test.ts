/**
 * The fair question set itself: every evidence quote is on its page in pdftotext's text, the halves are the ones the
 * seed decides, and the set covers the 12 filings (roughly by size) and the analyst question kinds.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fairSplit } from '../support/fair-question-split';
import { corpusDir, corpusMissingMessage, corpusPresent, loadFairQuestionSet, popplerPresent } from '../support/pdf-corpus';

const run = promisify(execFile);
const set = loadFairQuestionSet();
const { questions } = set;

if (!corpusPresent) console.warn(corpusMissingMessage);
else if (!popplerPresent) console.warn('pdftotext (poppler-utils) is not installed; skipping the evidence check. Install it with `apt-get install -y poppler-utils`.');

const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

describe('the fair question set', () => {
  it('has at least 200 questions with unique ids, known kinds, and one evidence quote per answering page', () => {
    expect(questions.length).toBeGreaterThanOrEqual(200);
    expect(new Set(questions.map((question) => question.id)).size).toBe(questions.length);
    const kinds = new Set(['income', 'balance', 'cashflow', 'segment', 'guidance', 'risk', 'per-share', 'footnote', 'mdna']);
    for (const question of questions) {
      expect(kinds.has(question.kind), `${question.id} kind ${question.kind}`).toBe(true);
      expect(question.pages).toEqual(question.evidence.map((evidence) => evidence.page));
      expect(question.pages.length).toBeGreaterThan(0);
      expect([...question.pages].sort((a, b) => a - b)).toEqual(question.pages);
    }
  });

  it('keeps the halves the seed decides (recomputed, never edited by hand)', () => {
    const split = fairSplit(
      questions.map((question) => question.id),
      set.split.seed,
    );
    for (const question of questions) expect(question.split, question.id).toBe(split.get(question.id));
    const tune = questions.filter((question) => question.split === 'tune').length;
    expect(tune).toBe(Math.ceil(questions.length / 2));
  });

  it('covers all 12 filings roughly in proportion to their size, every kind, numeric and narrative', () => {
    const perFile = new Map<string, number>();
    for (const question of questions) perFile.set(question.file, (perFile.get(question.file) ?? 0) + 1);
    if (corpusPresent) {
      const filings = readdirSync(corpusDir).filter((name) => name.endsWith('.pdf'));
      expect(filings).toHaveLength(12);
      for (const filing of filings) expect(perFile.get(filing) ?? 0, filing).toBeGreaterThanOrEqual(4);
    }
    // The four annual reports (73-194 pages) hold most of the pages, so most of the questions.
    const annual = questions.filter((question) => /10K/.test(question.file)).length;
    expect(annual / questions.length).toBeGreaterThan(0.55);
    const perKind = new Map<string, number>();
    for (const question of questions) perKind.set(question.kind, (perKind.get(question.kind) ?? 0) + 1);
    for (const count of perKind.values()) expect(count).toBeGreaterThanOrEqual(10);
    const numeric = questions.filter((question) => question.numeric).length;
    expect(numeric).toBeGreaterThan(questions.length / 2);
    expect(questions.length - numeric).toBeGreaterThanOrEqual(30);
  });

  it.skipIf(!corpusPresent || !popplerPresent)(
    'every evidence quote is on its page in pdftotext -layout',
    async () => {
      const pages = new Map<string, Promise<string>>();
      const pageText = (file: string, page: number): Promise<string> => {
        const key = `${file}#${page}`;
        let text = pages.get(key);
        if (!text) {
          const args = ['-q', '-f', String(page), '-l', String(page), '-layout', resolve(corpusDir, file), '-'];
          text = run('pdftotext', args, { maxBuffer: 16 * 1024 * 1024 }).then(({ stdout }) => collapse(stdout));
          pages.set(key, text);
        }
        return text;
      };
      const missing: string[] = [];
      // Two at a time: the machine's cores are shared.
      const checks = questions.flatMap((question) => question.evidence.map((evidence) => ({ question, evidence })));
      for (let start = 0; start < checks.length; start += 2) {
        await Promise.all(
          checks.slice(start, start + 2).map(async ({ question, evidence }) => {
            const text = await pageText(question.file, evidence.page);
            if (!text.includes(collapse(evidence.quote))) missing.push(`${question.id} p${evidence.page}: ${evidence.quote}`);
          }),
        );
      }
      expect(missing).toEqual([]);
    },
    120_000,
  );
});
