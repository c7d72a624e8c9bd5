/**
 * Turns an analyst's question into what the ranker needs: weighted search terms (the question's own words plus the
 * synonyms of the financial concepts it names), the statement it points at, the fiscal years and the period.
 */
import { concepts, questionStopWords, statements, wordVariants, type FinancialConcept, type StatementKind } from './financial-vocabulary';
import { phraseKey, stem, words } from './search-text';

export type PeriodKind = 'quarter' | 'half' | 'nineMonths' | 'year';

export interface QuestionTerm {
  term: string;
  /** 1 for the question's own words; less for synonyms added from the vocabulary. */
  weight: number;
}

export interface QuestionConcept {
  concept: FinancialConcept;
  /** phraseKey of every phrase of the concept. */
  phraseKeys: string[];
}

export interface AnalyzedQuestion {
  terms: QuestionTerm[];
  concepts: QuestionConcept[];
  /** The statement the question names ("according to the cash flow statement"). */
  statement?: StatementKind;
  /** Statements that report the figures the question asks for. */
  impliedStatements: Set<StatementKind>;
  /** Four-digit years named in the question (FY20 and FY2020 both give 2020). */
  years: string[];
  period?: PeriodKind;
  /** Asks for a figure (how much, how many, what was ...) rather than a description. */
  quantitative: boolean;
}

const stopStems = new Set(questionStopWords.map((word) => stem(word)));

const conceptKeys: QuestionConcept[] = concepts.map((concept) => ({ concept, phraseKeys: concept.phrases.map(phraseKey) }));
const statementKeys = statements.map((statement) => ({ kind: statement.kind, keys: statement.questionNames.map(phraseKey) }));

const variantsByStem = new Map<string, string[]>();
for (const group of wordVariants) {
  const stemsOfGroup = [...new Set(group.map((word) => stem(word)))];
  for (const member of stemsOfGroup) variantsByStem.set(member, [...new Set([...(variantsByStem.get(member) ?? []), ...stemsOfGroup])]);
}

const SYNONYM_WEIGHT = 0.35;
const YEAR_WEIGHT = 0.4;

const ORDINAL_QUARTERS = /\b(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter\b|\bq[1-4]\b|\bthree months\b|\bquarter(ly)?\b/;
const HALF = /\b(first half|second half|h[12]|six months|half[\s-]year)\b/;
const NINE_MONTHS = /\b(nine months|first three quarters|year[\s-]to[\s-]date|ytd)\b/;
const YEAR = /\b(fy\s?'?\d{2,4}|fiscal( year)?|full[\s-]year|annual|year[\s-]end(ed)?|for the year|twelve months|12 months)\b/;

function extractYears(question: string): string[] {
  const years = new Set<string>();
  for (const match of question.toLowerCase().matchAll(/\b(?:fy|fiscal(?:\s+year)?|q[1-4]|h[12])?\s?'?(\d{4}|\d{2})\b/g)) {
    const digits = match[1];
    const prefixed = match[0].trim().length > digits.length;
    if (digits.length === 4 && /^(19|20)\d\d$/.test(digits)) years.add(digits);
    else if (digits.length === 2 && prefixed) years.add(`20${digits}`);
  }
  return [...years];
}

function detectPeriod(question: string): PeriodKind | undefined {
  const text = question.toLowerCase();
  if (NINE_MONTHS.test(text)) return 'nineMonths';
  if (HALF.test(text)) return 'half';
  if (ORDINAL_QUARTERS.test(text)) return 'quarter';
  if (YEAR.test(text)) return 'year';
  return undefined;
}

/** Analyze an analyst question for pdf.search. */
export function analyzeQuestion(question: string): AnalyzedQuestion {
  const questionWords = words(question.replace(/&/g, ' '));
  const questionStems = questionWords.map(stem);
  const haystack = ` ${questionStems.join(' ')} `;
  const weights = new Map<string, number>();
  const add = (term: string, weight: number): void => {
    if (term.length < 2 && !/^[0-9]$/.test(term)) return;
    if (stopStems.has(term)) return;
    weights.set(term, Math.max(weights.get(term) ?? 0, weight));
  };

  const years = extractYears(question);
  for (const term of questionStems) add(term, /^(19|20)\d\d$/.test(term) ? YEAR_WEIGHT : 1);
  for (const year of years) add(year, YEAR_WEIGHT);
  for (const term of questionStems) for (const variant of variantsByStem.get(term) ?? []) add(variant, SYNONYM_WEIGHT);

  let statement: StatementKind | undefined;
  for (const { kind, keys } of statementKeys) if (keys.some((key) => haystack.includes(key))) statement ??= kind;

  const matched = conceptKeys.filter(({ phraseKeys }) => phraseKeys.some((key) => haystack.includes(key)));
  const impliedStatements = new Set<StatementKind>();
  for (const { concept, phraseKeys } of matched) {
    if (concept.statement) impliedStatements.add(concept.statement);
    for (const key of phraseKeys) for (const term of key.trim().split(' ')) add(term, SYNONYM_WEIGHT);
  }

  const text = question.toLowerCase();
  // "Why did SG&A fall?" names a figure but asks for the explanation, which is prose, not the statement's table.
  const narrative = /^\s*(why|how (could|might|is|are|does|do|will)|what (does|do|did) \S+('s)? (say|mean|expect)|what risks?|describe|explain|what happened)\b/.test(text);
  const quantitative =
    !narrative &&
    (/\b(how (much|many)|what (was|were|is|are)|total|amount|number of|percentage|rate|margin|grow|growth|spend|spent)\b/.test(text) ||
      matched.length > 0);

  return {
    terms: [...weights].map(([term, weight]) => ({ term, weight })),
    concepts: matched,
    statement,
    impliedStatements,
    years,
    period: detectPeriod(question),
    quantitative,
  };
}
