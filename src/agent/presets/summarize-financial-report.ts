/**
 * The `summarize_financial_report` preset: read a financial filing (PDF) with the PDF tools and return its key
 * figures, each with the page it was read from, as a typed `FinancialSummary`.
 */
import { z } from 'zod';
import { loadPdfTools } from '../default-modules';
import type { TaskPreset } from './task-preset';

/** A reported amount as printed in the filing, with its scale and the page it comes from. */
export const FinancialFigure = z.object({
  value: z.number().describe('The number as printed, in the unit below (negative for a loss)'),
  unit: z.enum(['units', 'thousands', 'millions', 'billions']).describe('The scale the filing states for the number'),
  page: z.number().int().min(1).describe('1-based page number where the figure appears'),
});
export type FinancialFigure = z.output<typeof FinancialFigure>;

export const FinancialSummary = z.object({
  company: z.string().min(1).max(120).describe('Company name as in the filing'),
  period: z.string().min(1).max(80).describe('Reporting period, e.g. "fiscal year ended 2024-09-28"'),
  currency: z.string().min(1).max(10).describe('Reporting currency code, e.g. "USD"'),
  revenue: FinancialFigure,
  netIncome: FinancialFigure,
  operatingCashFlow: FinancialFigure,
  eps: FinancialFigure.optional().describe('Diluted earnings per share, when the filing reports it'),
  highlights: z.array(z.string().max(200)).max(5).describe('Key facts of the period'),
  risks: z.array(z.string().max(200)).max(5).describe('Main risks the filing names'),
});
export type FinancialSummary = z.output<typeof FinancialSummary>;

export const summarizeFinancialReport: TaskPreset<FinancialSummary> = {
  name: 'summarize_financial_report',
  task: 'Summarize the financial report given as the input file: the company, the period, the currency, revenue, net income, operating cash flow, diluted EPS when reported, the main highlights and the main risks.',
  instructions: [
    'Read the report with the tools: search its pages for each figure (revenue, net income, operating cash flow, earnings per share, risk factors), then extract the pages that hold them.',
    'Take every number from the statements as printed, with the scale the statement gives (e.g. "in millions") and the page number where you read it. Never estimate a figure.',
    'Always pass the input file path to the tools exactly as given.',
  ].join('\n'),
  toolNames: ['pdf.extract', 'pdf.search'],
  schema: FinancialSummary,
  // The summary's JSON can reach ~2,900 characters at its schema's limits: room for it with GLM's 151k vocabulary
  // (several characters a token); a vocabulary of single characters needs about 3000 (generation.maxNewTokens).
  maxNewTokens: 1024,
  requiresInputFile: true,
  loadDefaultTools: loadPdfTools,
};
