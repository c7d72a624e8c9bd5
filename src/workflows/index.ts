// autoglm/workflows: spec, DAG runner, durable checkpoints.
export { Workflow, type WorkflowLoadOptions, type WorkflowResumeOptions } from './workflow';
export type {
  WorkflowSpec,
  WorkflowSpecInput,
  StepSpec,
  StepSpecInput,
  RetrySpec,
  FailurePolicy,
  InputSpec,
  AgentStepSpec,
} from './workflow-spec';
export type {
  AgentRunner,
  RunStatus,
  StepContext,
  StepErrorValue,
  StepKvSnapshot,
  StepKvUsage,
  StepResult,
  StepStatus,
  WorkflowEvent,
  WorkflowRunOptions,
  WorkflowRunResult,
  WorkflowPendingApproval,
  WorkflowApprovalDecision,
} from './workflow-types';
export { StepSuspension } from './step-suspension';
export { readJournal, type JournalRecord } from './run-journal';
export { createWorkflowAgentRunner, type WorkflowAgentRunnerOptions } from './workflow-agent-runner';
export type { StepExecutor, StepTask, StepEnvironment } from './executors/step-executor';
export { LocalExecutor } from './executors/local-executor';
export type { RunJournalStore, RunJournalWriter } from './executors/run-journal-store';
// BullmqExecutor and BullmqStepWorker: `autoglm/scale-out` (bullmq is loaded only there).
