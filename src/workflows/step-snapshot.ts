/**
 * An agent step's KV snapshot beside the run's journal: after each model turn of the step the model's cached
 * sequence goes to `<runId>.kv/<stepId>.kvs`, and an attempt that finds the file (the step was running when the
 * process died) loads it first, so its first generation, which repeats the crashed attempt's, prefills only what
 * the file lacks. A missing, foreign or damaged file is a cold start, never a failed step; the file goes when the
 * step succeeds. Models without `saveState` / `loadState` (scripted ones) run as before.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AgentEvent } from '../agent/agent-events';
import { AutoglmError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import type { StepContext, StepKvSnapshot } from './workflow-types';

export class StepSnapshot {
  readonly #model: LanguageModel;
  readonly #ctx: StepContext;
  readonly #slot: StepKvSnapshot;
  #loadedTokens = 0;
  #ignored: string | undefined;
  #reported = false;
  /** The agent step (model turn) whose snapshot was written last. */
  #savedTurn = 0;

  constructor(model: LanguageModel, ctx: StepContext) {
    this.#model = model;
    this.#ctx = ctx;
    this.#slot = ctx.kvSnapshot!;
  }

  /** Loads the step's snapshot when a crashed attempt left one. */
  async restore(): Promise<void> {
    const file = this.#slot.file;
    if (this.#model.loadState === undefined || !existsSync(file)) return;
    try {
      this.#loadedTokens = (await this.#model.loadState(file)).tokens;
      this.#ctx.logger.info({ file, tokens: this.#loadedTokens }, 'agent step resumes from its KV snapshot');
    } catch (error) {
      this.#ignored = AutoglmError.isInstance(error) ? error.message : String(error);
      this.#ctx.logger.warn({ file, error: this.#ignored }, 'KV snapshot not used; the step starts cold');
      await rm(file, { force: true });
    }
  }

  /** Reports the first generation's reuse, and saves the cache after each model turn that is not the last. */
  async observe(event: AgentEvent): Promise<void> {
    if (event.type === 'step-end' && !this.#reported && event.record.usage !== undefined) {
      this.#reported = true;
      const { prefillTokens, cachedTokens } = event.record.usage;
      this.#slot.report({ snapshotTokens: this.#loadedTokens, ...(this.#ignored === undefined ? {} : { snapshotIgnored: this.#ignored }), prefillTokens, cachedTokens });
    }
    // A turn's generation has ended once its plan, its first tool call or its step end shows; a valid answer ends the run.
    const turnEnded = event.type === 'plan' || event.type === 'tool-call' || (event.type === 'step-end' && (event.record.kind !== 'answer' || event.record.result !== undefined));
    if (!turnEnded || event.step === this.#savedTurn || this.#model.saveState === undefined) return;
    this.#savedTurn = event.step;
    const file = this.#slot.file;
    try {
      await mkdir(dirname(file), { recursive: true });
      await this.#model.saveState(file, { meta: { runId: this.#ctx.runId, stepId: this.#ctx.stepId, turn: String(event.step) } });
    } catch (error) {
      // A snapshot is an optimisation: a full disk slows a resumed run down, it does not fail this one.
      this.#ctx.logger.warn({ file, error: (error as Error).message }, 'cannot save the KV snapshot of the agent step');
    }
  }

  /** The step succeeded: its snapshot is of no more use. */
  async remove(): Promise<void> {
    await rm(this.#slot.file, { force: true });
  }
}
