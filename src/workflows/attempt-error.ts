import { AutoglmError } from '../errors';
import type { StepErrorValue } from './workflow-types';

/** Failures that another attempt cannot fix. */
export const permanentCodes = new Set(['TOOL_INPUT', 'TOOL_NOT_FOUND', 'WORKFLOW_SPEC', 'WORKFLOW_RUN', 'ABORT', 'STEP_PAYLOAD_TOO_LARGE']);

/** A failed attempt carrying its error value (a tool's code, STEP_TIMEOUT, ABORT, ...). */
export class AttemptError extends Error {
  constructor(readonly value: StepErrorValue) {
    super(value.message);
  }
}

export function toErrorValue(error: unknown): StepErrorValue {
  if (error instanceof AttemptError) return error.value;
  if (AutoglmError.isInstance(error)) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'STEP_ERROR', message: error.message };
  return { code: 'STEP_ERROR', message: String(error) };
}
