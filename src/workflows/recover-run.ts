import type { ToolApprovalDecision } from '../agent/tool-approval';
import type { JournalRecord } from './run-journal';
import type { RunStatus, StepResult } from './workflow-types';

export interface RecoveredStep {
  /** `pending` (with attempts and startedAt) for a step that had not ended; else its journaled end. */
  result: StepResult;
  /** The attempt a resumed run starts with: an interrupted attempt keeps its number (and idempotency key). */
  nextAttempt: number;
  /**
   * A suspended step (its agent waits for approval): the state it continues from, and the decisions once a resume
   * journaled them (a crash after that continues with them, without asking again).
   */
  suspension?: { state: unknown; decisions?: ToolApprovalDecision[] };
}

export interface RecoveredRun {
  steps: Map<string, RecoveredStep>;
  startedAt: number;
  end?: { status: RunStatus; outputs: Record<string, unknown>; at: number };
}

/** Rebuilds a run's state from its journal records. */
export function recoverRun(records: readonly JournalRecord[]): RecoveredRun {
  const steps = new Map<string, RecoveredStep>();
  const startedAt = records[0]?.type === 'run-header' ? records[0].at : Date.now();
  let end: RecoveredRun['end'];
  const entry = (id: string) => {
    let step = steps.get(id);
    if (step === undefined) steps.set(id, (step = { result: { status: 'pending', attempts: 0 }, nextAttempt: 1 }));
    return step;
  };
  for (const record of records) {
    switch (record.type) {
      case 'step-start': {
        const step = entry(record.stepId);
        step.result.startedAt ??= record.at;
        step.result.attempts = Math.max(step.result.attempts, record.attempt);
        step.nextAttempt = Math.max(step.nextAttempt, record.attempt);
        // A suspended step that starts again (after its decisions) keeps its suspension until it ends or suspends anew.
        break;
      }
      case 'step-suspend': {
        const step = entry(record.stepId);
        step.result = {
          ...step.result,
          status: 'suspended',
          pendingApprovals: record.pending.map((call) => ({ ...call, id: `${record.stepId}.${call.id}`, stepId: record.stepId, callId: call.id })),
        };
        step.nextAttempt = record.attempt;
        step.suspension = { state: record.state };
        break;
      }
      case 'step-decisions': {
        const step = entry(record.stepId);
        if (step.suspension !== undefined) step.suspension.decisions = record.decisions;
        break;
      }
      case 'step-retry': {
        const step = entry(record.stepId);
        step.nextAttempt = Math.max(step.nextAttempt, record.attempt + 1);
        break;
      }
      case 'step-end': {
        const step = entry(record.stepId);
        step.result = {
          status: record.status,
          attempts: record.attempts,
          output: record.output,
          error: record.error,
          startedAt: record.startedAt,
          endedAt: record.endedAt,
          ...(record.kv === undefined ? {} : { kv: record.kv }),
        };
        step.suspension = undefined;
        break;
      }
      case 'run-end':
        end = { status: record.status, outputs: record.outputs, at: record.at };
        break;
      case 'run-resume':
        end = undefined; // a cancelled or suspended run that was resumed is running again
        break;
      default:
        break;
    }
  }
  return { steps, startedAt, end };
}
