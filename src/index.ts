// The public API of autoglm, layer by layer (see DESIGN.md).
export * from './errors';
export { createLogger, type Logger } from './observability/logger';
// observability: Prometheus metrics, OpenTelemetry spans, adapters that instrument models, tools and workflows
export { AutoglmMetrics, type AutoglmMetricsOptions } from './observability/metrics';
export { withSpan, autoglmTracer, tracerName, type WithSpanOptions } from './observability/tracing';
export { instrumentModel, spanAttributes, type InstrumentModelOptions } from './observability/instrument-model';
export { instrumentToolCaller, type InstrumentToolCallerOptions } from './observability/instrument-tool-caller';
export {
  instrumentWorkflowEvents,
  type InstrumentWorkflowOptions,
  type WorkflowInstrumentation,
} from './observability/instrument-workflow';

// models: GlmModel over ONNX Runtime, tokenizer, constrained decoding, tiny random-weight models
export type * from './models/language-model';
export type { TokenConstraint } from './models/generation/token-constraint';
export { seededRandom } from './models/generation/random-generator';
export { GlmModel, type GlmModelLoadOptions, type ConstraintFactory } from './models/glm-model';
export { GlmTokenizer, type TextTokenizer } from './models/glm-tokenizer';
export { DTYPE_SUFFIXES, type ModelDtype } from './models/model-files';
export { isCudaProviderInstalled, type ExecutionProvider, type GraphOptimizationLevel } from './models/onnx-backend';
export {
  GrammarCompiler,
  type GrammarCompilerOptions,
  type ConstraintRequest,
  type GrammarCompilerStatistics,
} from './models/constraints/grammar-compiler';
export { createTinyGlm, type TinyGlmInfo } from './models/tiny/create-tiny-glm';
export type { TinyGlmOptions, ResolvedTinyGlmOptions } from './models/tiny/tiny-glm-options';
export { GLM_SPECIAL_TOKENS, type GlmSpecialToken } from './models/tiny/tiny-tokenizer';
export {
  defaultChatFormat,
  describeChatFormat,
  isToolName,
  toolNamePattern,
  type ChatFormat,
  type ToolPresentation,
} from './models/chat-format/chat-format';
export { ChatTemplate, type ChatTemplateOptions, type ChatTemplateContext } from './models/chat-format/chat-template';
export { detectChatFormat, type DetectChatFormatOptions } from './models/chat-format/detect-chat-format';
export { loadChatTemplates, type ChatTemplates } from './models/chat-format/load-chat-templates';
export { renderChatSegments, type ChatSegment } from './models/chat-format/render-chat';
export type { TinyChatTemplate } from './models/tiny/glm-chat-template';
export type { GlmTokenizerLoadOptions } from './models/glm-tokenizer';

// tools: the tool contract, registry, plugins, file sandbox, document, PDF and finance tools
export type * from './tools/tool';
export { defineTool, type DefineToolOptions } from './tools/define-tool';
export { ToolRegistry, type ToolRegistryOptions } from './tools/tool-registry';
export { definePlugin, loadPlugin, type Plugin, type PluginSetupContext } from './tools/plugin';
export { FileSandbox, type FileSandboxOptions } from './tools/file-sandbox';
export { fileTools } from './tools/file-tools';
export { documentTools } from './tools/documents/document-tools';
export { chunkDocument, type ChunkDocumentOptions, type DocumentChunk, type DocumentPage } from './tools/documents/chunk-document';
export { summarizeDocument, type SummarizeDocumentOptions, type DocumentSummary } from './tools/documents/summarize-document';
export {
  readPdf,
  PdfSearchIndex,
  PdfIndexCache,
  createPdfTools,
  pdfTools,
  defaultRankingWeights,
  type ReadPdfOptions,
  type PdfDocument,
  type PdfPage,
  type PdfInfo,
  type PdfTable,
  type PdfSearchHit,
  type PdfSearchOptions,
  type RankingWeights,
  type PdfIndexCacheOptions,
  type PdfToolsOptions,
} from './tools/pdf';
export { financeTools, keyFiguresTool } from './tools/finance/key-figures-tool';
export {
  extractKeyFigures,
  type ExtractKeyFiguresOptions,
  type KeyFigure,
  type KeyFigures,
  type FilingPage,
} from './tools/finance/extract-key-figures';
export { defaultLineItemSynonyms, type KeyFigureName, type LineItemSynonyms } from './tools/finance/line-item-synonyms';
export type { FigureUnit } from './tools/finance/statement-heading';

// agent: AutoAgent, its options, events and results, the GLM tool-call parser, the context window, task presets
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
export { parseToolCall, type ParsedModelOutput, type ParsedToolCall, type ToolCallParserOptions } from './agent/tool-call-parser';
export { ContextWindow, type ContextWindowOptions, type ContextTurn, type ContextTurnKind } from './agent/context-window';
export { FinancialFigure, FinancialSummary, summarizeFinancialReport } from './agent/presets/summarize-financial-report';
export { taskPresets } from './agent/presets/task-presets';
export type { TaskPreset } from './agent/presets/task-preset';

// workflows: spec, DAG runner, durable checkpoints
export { Workflow, type WorkflowLoadOptions, type WorkflowResumeOptions } from './workflows/workflow';
export type {
  WorkflowSpec,
  WorkflowSpecInput,
  StepSpec,
  StepSpecInput,
  RetrySpec,
  FailurePolicy,
  InputSpec,
  AgentStepSpec,
} from './workflows/workflow-spec';
export type {
  AgentRunner,
  RunStatus,
  StepContext,
  StepErrorValue,
  StepResult,
  StepStatus,
  WorkflowEvent,
  WorkflowRunOptions,
  WorkflowRunResult,
} from './workflows/workflow-types';
export { readJournal, type JournalRecord } from './workflows/run-journal';
