import type { ToolSpec } from '../models/language-model';
import type { ToolCaller } from '../tools/tool';

/**
 * What the agent needs from its tools: calling them (failures as values) and their specs for the prompt and the
 * tool-call grammar. ToolRegistry is one; the check is structural so a registry from another copy of the package
 * works too.
 */
export interface AgentTools extends ToolCaller {
  toolSpecs(): ToolSpec[];
}

export function isAgentTools(value: unknown): value is AgentTools {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AgentTools).call === 'function' &&
    typeof (value as AgentTools).has === 'function' &&
    typeof (value as AgentTools).toolSpecs === 'function'
  );
}
