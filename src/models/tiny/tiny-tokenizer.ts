/**
 * Tokenizers for tiny models, in the Hugging Face `tokenizers` JSON format: a small byte-level BPE learnt
 * deterministically from a built-in English text, or an existing tokenizer.json extended with the GLM special
 * tokens.
 */

/** The GLM special tokens, in the order GLM-4 numbers them (151329 ... 151338). */
export const GLM_SPECIAL_TOKENS = [
  '<|endoftext|>',
  '[MASK]',
  '[gMASK]',
  '[sMASK]',
  '<sop>',
  '<eop>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
  '<|observation|>',
] as const;

export type GlmSpecialToken = (typeof GLM_SPECIAL_TOKENS)[number];

/** A tokenizer.json document (only the parts this module reads or writes are typed). */
export interface TokenizerJson {
  version?: string;
  added_tokens: AddedToken[];
  model: { type: string; vocab?: Record<string, number> | [string, number][]; [key: string]: unknown };
  [key: string]: unknown;
}

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface BuiltTokenizer {
  json: TokenizerJson;
  /** Number of ids the tokenizer can produce (highest id + 1). */
  size: number;
  /** Ids of the GLM special tokens. */
  specialTokens: Record<GlmSpecialToken, number>;
}

// Written for this project: everyday English plus the vocabulary of finance, reports and tool calls, so that
// common words of test prompts become one to three tokens.
const CORPUS = `
The quarterly report shows that revenue grew by twelve percent while operating costs stayed flat. The company
expects the market to remain strong for the rest of the year, and the board approved a new dividend for every
share. Investors asked about the interest rate, the price of the stock, the balance sheet and the cash flow of
the business. The bank said the loan would be paid over five years at a fixed rate. Please send the invoice to
the accounting team before the end of the month, and include the total amount, the tax and the account number.
What is the weather in the city today? The weather is sunny and warm, with a light wind from the west. Tomorrow
it will rain in the morning and clear up in the afternoon. I would like to book a table for two people at seven.
The user asked the assistant to find the file, read the document and write a short summary of the results.
The tool returned a value, and the agent used the result to answer the question. Call the function with the
name and the arguments as JSON. The system prompt says that you are a helpful assistant. Hello, how are you?
I am fine, thank you. This is a test of the tokenizer: numbers like 1, 2, 3, 10, 100, 2024 and 3.14 appear in
the text, as do words such as model, token, input, output, data, time, value, result, answer and question.
The sales team closed the deal with the new customer, and the profit margin improved over the last quarter.
We compare the current price with the previous close and report the change as a percentage of the total.
Our analysts review the annual budget, the monthly expenses and the income statement. The customer service
team answered every message within one hour. The project plan lists each task, the person who owns it, the
start date and the due date. Please check the status of the order and tell me when it will be delivered. The
search returned three documents; the first one was the most relevant. Open the spreadsheet, sum the column
and write the number into the summary. The meeting starts at nine and ends at ten thirty. The assistant called
the calculator tool, then the search tool, and finally wrote the answer. The function takes a string and
returns a list of numbers. The file was saved in the shared folder, and the workflow continued with the next
step. The temperature in the morning was low, but the afternoon was pleasant and bright. The economy grew
faster than expected, inflation slowed, and the central bank kept its policy unchanged. Thank you for your
help; let me know if you need anything else.
`;

/** GPT-2 byte-to-unicode map: printable bytes map to themselves, the rest to code points from 256 upward. */
function bytesToUnicode(): string[] {
  const printable = new Set<number>();
  for (let b = 33; b <= 126; b++) printable.add(b);
  for (let b = 161; b <= 172; b++) printable.add(b);
  for (let b = 174; b <= 255; b++) printable.add(b);
  const table: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable.has(b) ? b : 256 + extra++);
  return table;
}

/** The ByteLevel pre-tokenizer's split pattern (the same regex as GPT-2). */
const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Learns `mergeCount` merges from the corpus; stops early when no pair occurs twice. Deterministic. */
function learnMerges(corpus: string, mergeCount: number, byteChars: string[]): [string, string][] {
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const piece of corpus.match(PRE_TOKENIZE) ?? []) {
    const mapped = Array.from(encoder.encode(piece), (byte) => byteChars[byte]).join('');
    wordCounts.set(mapped, (wordCounts.get(mapped) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([word, count]) => ({ symbols: Array.from(word), count }));
  const merges: [string, string][] = [];
  while (merges.length < mergeCount) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    for (const word of words) {
      const merged: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === left && word.symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(word.symbols[i]);
        }
      }
      word.symbols = merged;
    }
  }
  return merges;
}

function addedToken(id: number, content: string): AddedToken {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export interface TinyTokenizerOptions {
  /** Merges to learn. Defaults to 246 (with 256 byte tokens and 10 special tokens: 512 ids). */
  merges?: number;
  /** Prefix `[gMASK]<sop>` when encoding with special tokens, as the GLM-4 -hf tokenizers do. Defaults to false. */
  glmPrefix?: boolean;
}

/** The default tokenizer of tiny models: byte-level BPE + the GLM special tokens after the learnt vocabulary. */
export function buildTinyTokenizer(options: TinyTokenizerOptions = {}): BuiltTokenizer {
  const byteChars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  byteChars.forEach((char, id) => (vocab[char] = id));
  const merges = learnMerges(CORPUS, options.merges ?? 246, byteChars);
  for (const [left, right] of merges) {
    const token = left + right;
    if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
  }
  const firstSpecial = Object.keys(vocab).length;
  const added = GLM_SPECIAL_TOKENS.map((content, index) => addedToken(firstSpecial + index, content));
  const specialTokens = Object.fromEntries(added.map((token) => [token.content, token.id])) as Record<GlmSpecialToken, number>;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: options.glmPrefix ? glmPrefixProcessor(specialTokens) : { ...byteLevel },
    decoder: { ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([left, right]) => `${left} ${right}`),
    },
  };
  return { json, size: firstSpecial + added.length, specialTokens };
}

function glmPrefixProcessor(specialTokens: Record<GlmSpecialToken, number>): Record<string, unknown> {
  const piece = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    type: 'TemplateProcessing',
    single: [piece('[gMASK]'), piece('<sop>'), { Sequence: { id: 'A', type_id: 0 } }],
    pair: [piece('[gMASK]'), piece('<sop>'), { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: {
      '[gMASK]': { id: '[gMASK]', ids: [specialTokens['[gMASK]']], tokens: ['[gMASK]'] },
      '<sop>': { id: '<sop>', ids: [specialTokens['<sop>']], tokens: ['<sop>'] },
    },
  };
}

/**
 * Extends an existing tokenizer.json with whichever GLM special tokens it lacks (appended after its highest id);
 * tokens it already has keep their ids.
 */
export function extendTokenizer(json: TokenizerJson): BuiltTokenizer {
  const copy = structuredClone(json);
  copy.added_tokens = [...(copy.added_tokens ?? [])];
  const ids = new Map<string, number>();
  let highest = -1;
  const vocab = copy.model.vocab;
  const vocabEntries: [string, number][] = Array.isArray(vocab) ? vocab.map(([token], id) => [token, id]) : Object.entries(vocab ?? {});
  for (const [token, id] of vocabEntries) {
    ids.set(token, id);
    highest = Math.max(highest, id);
  }
  for (const token of copy.added_tokens) {
    ids.set(token.content, token.id);
    highest = Math.max(highest, token.id);
  }
  const specialTokens = {} as Record<GlmSpecialToken, number>;
  for (const content of GLM_SPECIAL_TOKENS) {
    const existing = ids.get(content);
    if (existing !== undefined) {
      specialTokens[content] = existing;
      continue;
    }
    highest += 1;
    copy.added_tokens.push(addedToken(highest, content));
    specialTokens[content] = highest;
  }
  return { json: copy, size: highest + 1, specialTokens };
}
