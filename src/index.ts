// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// agent: AutoAgent, its options, events and results, the GLM tool-call parser, the context window, task presets.
export { AutoAgent } from './agent/auto-agent';
export type {
  AutoAgentOptions,
  AutoAgentContextOptions,
  AutoAgentGenerationOptions,
} from './agent/auto-agent-options';
export type {
  AgentEvent,
  AgentFinishReason,
  AgentInput,
  AgentResult,
  AgentRunOptions,
  AgentStep,
  AgentToolCall,
  AgentUsage,
} from './agent/agent-events';
export { createPlanSchema, type AgentPlan, type AgentPlanStep } from './agent/agent-plan';
export type { AgentTools } from './agent/agent-tools';
export { parseToolCall, type ParsedModelOutput, type ToolCallParserOptions } from './agent/tool-call-parser';
export { ContextWindow, type ContextWindowOptions, type ContextTurn, type ContextTurnKind } from './agent/context-window';
export { FinancialFigure, FinancialSummary, summarizeFinancialReport } from './agent/presets/summarize-financial-report';
export { taskPresets } from './agent/presets/task-presets';
export type { TaskPreset } from './agent/presets/task-preset';
