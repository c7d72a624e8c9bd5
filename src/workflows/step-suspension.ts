/**
 * How a step says "waiting for a person": its agent runner throws a StepSuspension with the calls that wait and the
 * state to continue from. The runner journals both and ends the run `suspended` once nothing else can run;
 * `Workflow.resume(runId, { decisions })` hands the state and the step's decisions back to the runner
 * (`ctx.resume`).
 */
import type { PendingToolApproval } from '../agent/tool-approval';

const marker = Symbol.for('autoglm.step-suspension');

export class StepSuspension extends Error {
  /** The calls that wait, with the ids the agent gave them (unique within the step). */
  readonly pending: PendingToolApproval[];
  /** Plain JSON the runner gets back as `ctx.resume.state` (an AutoAgent's paused state). */
  readonly state: unknown;

  constructor(pending: PendingToolApproval[], state: unknown) {
    super(`The step waits for approval of ${pending.map((call) => call.id).join(', ')}.`);
    this.pending = pending;
    this.state = state;
    Object.defineProperty(this, marker, { value: true });
  }

  /** True for a StepSuspension, also from another copy of the package. */
  static isInstance(value: unknown): value is StepSuspension {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
