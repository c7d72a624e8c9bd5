/** Two small tools over a fake ledger, for agent runs on tiny models (tests and bench/chat-format-reuse.bench.ts). */
import { z } from 'zod';
import { defineTool } from '../../src/tools/define-tool';

export const ledgerTools = [
  defineTool({
    name: 'ledger.read',
    description: 'Read the ledger entry of a month',
    input: z.object({ month: z.number().int().min(1).max(12) }),
    execute: ({ month }) => ({ month, amount: month * 100 }),
  }),
  defineTool({
    name: 'ledger.sum',
    description: 'Add amounts',
    input: z.object({ amounts: z.array(z.number().int().min(0).max(9999)).max(3) }),
    execute: ({ amounts }) => amounts.reduce((sum, amount) => sum + amount, 0),
  }),
];
