// The public API of autoglm. Each layer adds its exports here.
export * from './errors';
export type * from './models/language-model';
export type * from './tools/tool';
export { createLogger, type Logger } from './observability/logger';
export type { TokenConstraint } from './models/generation/token-constraint';
export { defineTool, type DefineToolOptions } from './tools/define-tool';

// workflows: spec, DAG runner, durable checkpoints (issue 4)
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
export { seededRandom } from './workflows/retry-delay';
export { readJournal, type JournalRecord } from './workflows/run-journal';
