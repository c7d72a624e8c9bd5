import type { z } from 'zod';
import type { Tool } from '../../tools/tool';

/** A named task: `new AutoAgent({ task: preset.name, ... })` uses its text, instructions, tools and schema. */
export interface TaskPreset<Output = unknown> {
  /** The name passed as `task`, e.g. `summarize_financial_report`. */
  name: string;
  /** What the agent must do, shown to the model. */
  task: string;
  /** How to do it; the agent's own `instructions` are added after these. */
  instructions: string;
  /** Tools the preset relies on; when `tools` is given it must hold all of them. */
  toolNames: string[];
  /** Schema of the final answer, used when the agent's options give no `schema`. */
  schema?: z.ZodType<Output>;
  /** Token budget per step when the agent's options set none (room for the whole output JSON). Defaults to 512. */
  maxNewTokens?: number;
  /** The task reads `{ inputFile }`: a run without one, or with one that cannot be read, fails with AgentInputError. */
  requiresInputFile?: boolean;
  /** The tools used when the agent's options give none. */
  loadDefaultTools?: () => Promise<Tool[]>;
}
