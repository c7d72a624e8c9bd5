// autoglm/agent: AutoAgent, its options, events and results, the GLM tool-call parser, the context window, task presets.
export { AutoAgent } from './auto-agent';
export { AgentSession } from './agent-session';
export { stepCountIs, hasToolCall, type StopCondition, type StopConditionContext } from './stop-condition';
export type { PrepareStep, PrepareStepContext, PrepareStepResult } from './prepare-step';
export type {
  AutoAgentOptions,
  AutoAgentContextOptions,
  AutoAgentGenerationOptions,
} from './auto-agent-options';
export type {
  AgentEvent,
  AgentFinishReason,
  AgentInput,
  AgentResult,
  AgentRunOptions,
  AgentStep,
  AgentToolCall,
  AgentUsage,
} from './agent-events';
export { createPlanSchema, type AgentPlan, type AgentPlanStep } from './agent-plan';
export type { AgentTools } from './agent-tools';
export type { AgentPausedState, PausedToolCall, PendingToolApproval, ToolApprovalDecision } from './tool-approval';
export { parseToolCall, type ParsedModelOutput, type ParsedToolCall, type ToolCallParserOptions } from './tool-call-parser';
export { ContextWindow, type ContextWindowOptions, type ContextTurn, type ContextTurnKind } from './context-window';
export { FinancialFigure, FinancialSummary, summarizeFinancialReport } from './presets/summarize-financial-report';
export { taskPresets } from './presets/task-presets';
export type { TaskPreset } from './presets/task-preset';
