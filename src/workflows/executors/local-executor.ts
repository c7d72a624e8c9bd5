/**
 * The default executor: step bodies run in this process. Model-bound attempts take the model's queue (shared by
 * every run in the process), which runs as many at once as the model runs sequences (`LanguageModel.sequences`:
 * a GlmModel steps them together in one batch), one at a time for a model that does not say.
 */
import PQueue from 'p-queue';
import { modelSequences } from '../../models/language-model';
import { AttemptError } from '../attempt-error';
import type { StepContext } from '../workflow-types';
import type { StepEnvironment, StepExecutor, StepTask } from './step-executor';

const modelQueues = new WeakMap<object, PQueue>();

function modelQueueFor(key: object, concurrency: number): PQueue {
  let queue = modelQueues.get(key);
  if (queue === undefined) {
    queue = new PQueue({ concurrency });
    modelQueues.set(key, queue);
  }
  return queue;
}

/** Calls the step's tool or agent runner; a tool failure becomes an AttemptError with the tool's code. */
export async function runStepBody(task: StepTask, ctx: StepContext, environment: Pick<StepEnvironment, 'tools' | 'agents'>): Promise<unknown> {
  if (task.uses !== undefined) {
    if (environment.tools === undefined) {
      throw new AttemptError({ code: 'TOOL_NOT_FOUND', message: `Step "${task.stepId}" uses tool "${task.uses}", but this executor has no tools (a worker started with models only).` });
    }
    const result = await environment.tools.call(task.uses, task.args, {
      signal: ctx.signal,
      logger: ctx.logger,
      model: ctx.model,
      idempotencyKey: ctx.idempotencyKey,
      runId: ctx.runId,
      stepId: ctx.stepId,
      timeoutMs: task.timeoutMs,
    });
    if (!result.ok) throw new AttemptError({ code: result.error.code, message: result.error.message });
    return result.value;
  }
  return environment.agents!(task.agent!, task.args, ctx);
}

export class LocalExecutor implements StepExecutor {
  readonly remote = false;

  execute(task: StepTask, ctx: StepContext, environment: StepEnvironment): Promise<unknown> {
    if (!task.modelBound) return runStepBody(task, ctx, environment);
    const { model } = environment;
    return modelQueueFor(model ?? environment.modelQueueKey, modelSequences(model)).add(() => runStepBody(task, ctx, environment), { signal: ctx.signal });
  }
}
