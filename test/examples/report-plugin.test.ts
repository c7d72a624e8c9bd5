/**
 * The financial-report example's report.compose: the model's figures are checked against the extracted ones, and
 * absurd ones (what a random test model writes, e.g. 1089101010101016.9 thousands on page 1089101010101010) are
 * flagged `implausible`; the model-written fields are marked unverified in what report.json receives.
 */
import { describe, expect, it } from 'vitest';
import { checkFigure, composeReportTool } from '../../examples/financial-report/report-plugin';
import type { ToolContext } from '../../src/tools/tool';

const revenue = { value: 2510, unit: 'millions' as const, page: 8, label: 'Net revenues' };
const figures = {
  currency: 'USD',
  period: 'Three Months Ended March 31, 2023',
  figures: { revenue, netIncome: { ...revenue, value: 567, label: 'Net income' }, operatingCashFlow: { ...revenue, value: 841, page: 9, label: 'Net cash provided by operating activities' } },
};
const draft = (revenueFigure: { value: number; unit: 'units' | 'thousands' | 'millions' | 'billions'; page: number }) => ({
  company: 'eBay Inc.',
  period: 'Q1 2023',
  currency: 'USD',
  revenue: revenueFigure,
  netIncome: { value: 567, unit: 'millions', page: 8 },
  operatingCashFlow: { value: 841, unit: 'millions', page: 9 },
  highlights: ['Revenue grew'],
  risks: [],
});

describe('report.compose checks the model figures', () => {
  it('flags an absurd figure and page as implausible, a close one as agreeing, another as differing', () => {
    const absurd = checkFigure('revenue', revenue, { value: 1089101010101016.9, unit: 'thousands', page: 1089101010101010 }, 24);
    expect(absurd).toMatchObject({ status: 'implausible', agrees: false });
    expect(absurd.problem).toMatch(/page 1089101010101010 is beyond the filing's 24 pages; .* off by more than 1000x/);
    expect(checkFigure('revenue', revenue, { value: 2.51, unit: 'billions', page: 8 }, 24)).toMatchObject({ status: 'agrees', agrees: true });
    expect(checkFigure('revenue', revenue, { value: 2400, unit: 'millions', page: 8 }, 24)).toMatchObject({ status: 'differs', agrees: false });
    expect(checkFigure('revenue', revenue, undefined, 24)).toMatchObject({ status: 'missing', agrees: null, model: null });
  });

  it('marks the model-written fields unverified, with low trust when a model figure is absurd', async () => {
    const context = {} as ToolContext;
    const absurd = await composeReportTool.execute(
      { source: 'q1.pdf', info: { pageCount: 24 }, figures, draft: draft({ value: 1089101010101016.9, unit: 'thousands', page: 1089101010101010 }) },
      context,
    );
    expect(absurd.summary.revenue).toEqual({ value: 2510, unit: 'millions', page: 8 }); // the filing's figure, not the model's
    expect(absurd.verification.modelWritten).toMatchObject({ fields: ['company', 'highlights', 'risks'], verified: false, trust: 'low' });
    expect(absurd.verification.modelWritten.reason).toContain('revenue: implausible');
    const sound = await composeReportTool.execute({ source: 'q1.pdf', info: { pageCount: 24 }, figures, draft: draft({ value: 2510, unit: 'millions', page: 8 }) }, context);
    expect(sound.verification.modelWritten).toMatchObject({ verified: false, trust: 'unknown' });
    expect(sound.verification.modelFigures.map((check) => check.status)).toEqual(['agrees', 'agrees', 'agrees']);
  });
});
