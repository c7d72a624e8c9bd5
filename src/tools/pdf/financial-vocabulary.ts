/**
 * The financial vocabulary pdf.search uses to understand analyst questions: the names of the primary statements
 * and groups of phrases that filings and analysts use for the same figure. Pure data, so it can be extended
 * without touching the ranking code. Phrases are lowercase; `&` and punctuation are ignored when matching.
 */

export type StatementKind = 'income' | 'balance' | 'cashFlow' | 'equity' | 'comprehensiveIncome';

export interface StatementVocabulary {
  kind: StatementKind;
  /** Titles as they head a statement page in a filing (matched in the page's first lines). */
  titles: string[];
  /** How an analyst names the statement in a question. */
  questionNames: string[];
}

export const statements: StatementVocabulary[] = [
  {
    kind: 'cashFlow',
    titles: ['statements of cash flows', 'statement of cash flows', 'cash flows statements', 'cash flow statements'],
    questionNames: ['cash flow statement', 'statement of cash flows', 'statements of cash flows', 'cash flows statement'],
  },
  {
    kind: 'income',
    titles: [
      'statements of operations',
      'statement of operations',
      'statements of income',
      'statement of income',
      'income statements',
      'income statement',
      'statements of earnings',
      'statement of earnings',
    ],
    questionNames: ['income statement', 'statement of operations', 'statement of income', 'profit and loss', 'p&l', 'earnings statement'],
  },
  {
    kind: 'balance',
    titles: ['balance sheets', 'balance sheet', 'statements of financial position', 'statement of financial position'],
    questionNames: ['balance sheet', 'statement of financial position'],
  },
  {
    kind: 'equity',
    titles: ["stockholders' equity", 'stockholders equity', "shareholders' equity", 'shareholders equity', "shareowners' equity", 'shareowners equity'],
    questionNames: ['statement of stockholders equity', 'statement of shareholders equity', 'equity statement'],
  },
  {
    kind: 'comprehensiveIncome',
    titles: ['statements of comprehensive income', 'statement of comprehensive income', 'comprehensive income statements'],
    questionNames: ['comprehensive income'],
  },
];

export interface FinancialConcept {
  name: string;
  /** Every phrase that names this concept, in questions or in filings. A question naming one finds the others. */
  phrases: string[];
  /** The statement that reports this figure, when it is a line item of one. */
  statement?: StatementKind;
}

export const concepts: FinancialConcept[] = [
  {
    name: 'capital expenditure',
    phrases: [
      'capital expenditures',
      'capital expenditure',
      'capex',
      'capital spending',
      'purchases of property and equipment',
      'purchases of property plant and equipment',
      'purchase of property and equipment',
      'additions to property and equipment',
      'additions to property plant and equipment',
      'payments for acquisition of property plant and equipment',
      'payments for property and equipment',
      'property and equipment',
      'property plant and equipment',
      'capital investment',
    ],
    statement: 'cashFlow',
  },
  {
    name: 'revenue',
    phrases: [
      'revenue',
      'revenues',
      'total revenue',
      'total revenues',
      'net revenue',
      'net revenues',
      'total net revenues',
      'net sales',
      'total net sales',
      'net operating revenues',
      'total net operating revenues',
      'top line',
      'turnover',
    ],
    statement: 'income',
  },
  {
    name: 'earnings per share',
    phrases: [
      'eps',
      'earnings per share',
      'diluted earnings per share',
      'net income per share',
      'diluted net income per share',
      'earnings per diluted share',
      'per diluted share',
    ],
    statement: 'income',
  },
  {
    name: 'net income',
    phrases: ['net income', 'net earnings', 'net profit', 'bottom line', 'net income attributable'],
    statement: 'income',
  },
  {
    name: 'operating income',
    phrases: ['operating income', 'operating profit', 'income from operations', 'operating earnings', 'ebit'],
    statement: 'income',
  },
  {
    name: 'gross margin',
    phrases: ['gross margin', 'gross profit', 'gross margin percentage'],
    statement: 'income',
  },
  {
    name: 'research and development',
    phrases: ['research and development', 'r&d', 'r d', 'technology and development', 'research development expenses'],
    statement: 'income',
  },
  {
    name: 'selling general and administrative',
    phrases: ['selling general and administrative', 'sg&a', 'sga', 'general and administrative', 'selling informational and administrative'],
    statement: 'income',
  },
  {
    name: 'cost of sales',
    phrases: ['cost of sales', 'cost of goods sold', 'cost of revenue', 'cost of revenues', 'cogs'],
    statement: 'income',
  },
  {
    name: 'income tax',
    phrases: ['effective tax rate', 'tax rate', 'provision for income taxes', 'income tax expense', 'income taxes'],
  },
  {
    name: 'operating cash flow',
    phrases: [
      'operating cash flow',
      'operating cash flows',
      'cash from operations',
      'cash flow from operations',
      'cash flows from operating activities',
      'net cash provided by operating activities',
      'net cash from operating activities',
      'cash generated by operating activities',
      'cash provided by operations',
    ],
    statement: 'cashFlow',
  },
  {
    name: 'free cash flow',
    phrases: ['free cash flow', 'free cash flows', 'fcf'],
  },
  {
    name: 'dividends',
    phrases: ['dividends', 'dividends paid', 'cash dividends', 'cash dividends paid', 'dividend payments', 'payments for dividends'],
    statement: 'cashFlow',
  },
  {
    name: 'share repurchases',
    phrases: [
      'share repurchases',
      'buybacks',
      'buyback',
      'buy back',
      'bought back',
      'stock buybacks',
      'repurchase',
      'repurchased',
      'repurchases of common stock',
      'common stock repurchased',
      'repurchase of common stock',
      'purchases of stock for treasury',
    ],
    statement: 'cashFlow',
  },
  {
    name: 'total assets',
    phrases: ['total assets'],
    statement: 'balance',
  },
  {
    name: 'cash position',
    phrases: ['cash and cash equivalents', 'cash position', 'cash balance'],
    statement: 'balance',
  },
  {
    name: 'debt',
    phrases: ['long-term debt', 'long term debt', 'total debt', 'borrowings', 'notes payable'],
    statement: 'balance',
  },
  {
    name: 'shareholders equity',
    phrases: ["total stockholders' equity", 'total stockholders equity', 'total shareholders equity', 'book value'],
    statement: 'balance',
  },
  {
    name: 'depreciation and amortization',
    phrases: ['depreciation and amortization', 'd&a', 'depreciation'],
  },
  {
    name: 'stock-based compensation',
    phrases: ['stock-based compensation', 'share-based compensation', 'stock based compensation', 'equity compensation', 'stock compensation'],
  },
  {
    name: 'employees',
    phrases: ['employees', 'employed', 'headcount', 'workforce', 'full-time employees', 'associates', 'human capital', 'employ'],
  },
  {
    name: 'content spending',
    phrases: ['content assets', 'additions to content assets', 'additions to streaming content assets', 'streaming content assets', 'content spending', 'content spend'],
    statement: 'cashFlow',
  },
  {
    name: 'members',
    phrases: ['paid memberships', 'memberships', 'members', 'subscribers', 'paid subscribers', 'paid members', 'subscriptions'],
  },
  {
    name: 'gross merchandise volume',
    phrases: ['gross merchandise volume', 'gmv'],
  },
  {
    name: 'comparable sales',
    phrases: ['comparable sales', 'comparable store sales', 'same-store sales', 'same store sales', 'like-for-like sales', 'comps'],
  },
  {
    name: 'acquisition',
    phrases: ['acquisition', 'acquisitions', 'acquire', 'acquired', 'takeover', 'deal', 'purchase price', 'completed our acquisition'],
  },
  {
    name: 'credit rating',
    phrases: ['credit rating', 'credit ratings', 'rated', 'rating agencies', "moody's", 'standard & poor'],
  },
  {
    name: 'guidance',
    phrases: ['guidance', 'outlook', 'forecast', 'financial guidance', 'business outlook'],
  },
  {
    name: 'whole company',
    phrases: ['worldwide', 'global', 'globally', 'consolidated', 'total company', 'company-wide'],
  },
  {
    name: 'segment',
    phrases: ['segment', 'segments', 'operating segment', 'reportable segment', 'business unit', 'unit', 'division', 'group'],
  },
];

/**
 * Word forms that stemming keeps apart but an analyst uses for the same idea ("how fast did it grow" against
 * "growth of 45%"): each question word adds the others at synonym weight.
 */
export const wordVariants: string[][] = [
  ['grow', 'growth', 'grew', 'increase', 'increased', 'rose'],
  ['fall', 'fell', 'decline', 'declined', 'decrease', 'decreased', 'drop', 'dropped', 'shrink', 'lower'],
  ['rise', 'rose', 'increase', 'increased', 'higher', 'jump', 'jumped'],
  ['spend', 'spent', 'spending', 'expense', 'expenses', 'invest', 'investment'],
  ['pay', 'paid', 'payment', 'payments'],
  ['employ', 'employees', 'employed', 'people', 'headcount', 'workforce'],
  ['owe', 'owed', 'debt', 'borrowings'],
  ['close', 'closed', 'complete', 'completed'],
  ['sell', 'sold', 'sales'],
  ['earn', 'earned', 'earnings', 'income'],
  ['hold', 'held', 'balance'],
  ['cost', 'costs', 'expense', 'expenses', 'charges'],
];

/** Words that carry no meaning for retrieval in an analyst's question. */
export const questionStopWords: string[] = [
  'a', 'about', 'according', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'been', 'by', 'can', 'company',
  'company\'s', 'could', 'did', 'do', 'does', 'during', 'each', 'for', 'from', 'give', 'had', 'has', 'have', 'how', 'i', 'in',
  'into', 'is', 'it', 'its', 'me', 'much', 'many', 'of', 'on', 'or', 'per', 'please', 'report', 'reported', 'say', 'show', 'so',
  'tell', 'than', 'that', 'the', 'their', 'them', 'there', 'these', 'they', 'this', 'to', 'was', 'were', 'what', 'when',
  'where', 'which', 'who', 'whom', 'why', 'will', 'with', 'would', 'you', 'your', 'end', 'figure', 'amount', 'value', 'level',
  'generate', 'generated', 'make', 'made', 'bring', 'brought', 'get', 'got', 'see', 'look', 'like',
];
