/**
 * A custom tool plugin: `finance.growth` computes the change between two reported amounts. Load it with
 *
 *   await registry.use('./examples/custom-plugin/index.ts');            // from the repository root
 *   npx autoglm run my-workflow.yaml --plugin ./examples/custom-plugin/index.ts
 *
 * or list it under "plugins" in an autoglm.config.json beside a workflow. Agents see the tool with its schema;
 * bad arguments come back to them as TOOL_INPUT errors, never as exceptions.
 */
import { z } from 'zod';
import { definePlugin, defineTool } from 'autoglm';

export const growthTool = defineTool({
  name: 'finance.growth',
  description: 'Percentage change from a previous amount to a current one (e.g. revenue year over year).',
  input: z.object({
    current: z.number().describe('The amount of the current period'),
    previous: z.number().refine((value) => value !== 0, 'previous must not be 0').describe('The amount of the comparison period'),
    decimals: z.number().int().min(0).max(6).default(1).describe('Decimals of the percentage'),
  }),
  output: z.object({ change: z.number(), percent: z.number(), direction: z.enum(['up', 'down', 'flat']) }),
  execute({ current, previous, decimals }) {
    const change = current - previous;
    const factor = 10 ** decimals;
    const percent = Math.round((change / Math.abs(previous)) * 100 * factor) / factor;
    const direction = change > 0 ? ('up' as const) : change < 0 ? ('down' as const) : ('flat' as const);
    return { change, percent, direction };
  },
});

export default definePlugin({ name: 'example-growth', version: '1.0.0', tools: [growthTool] });
