/**
 * What an agent run produces: the steps it took, the events it streams, and its result.
 */
import type { GenerationUsage } from '../models/language-model';
import type { ToolResult } from '../tools/tool';
import type { AgentPlan } from './agent-plan';
import type { AgentSession } from './agent-session';
import type { AgentPausedState, PendingToolApproval } from './tool-approval';

/**
 * Why a run ended.
 * - `answer`: the model answered on its own.
 * - `max-steps`: the step budget ran out; the last step was constrained to the final answer.
 * - `loop`: the model repeated the same call (same tool, same arguments) a third time; the final answer was forced
 *   the same way as for `max-steps`.
 * - `stop-condition`: a `stopWhen` condition was met after a step; the next step was constrained to the final answer.
 * - `abort`: the caller's signal fired; there is no output.
 * - `approval-required`: the model called a tool that needs a person's approval; nothing of that step ran. The
 *   result holds the pending calls and the state `agent.resume(state, decisions)` continues from.
 */
export type AgentFinishReason = 'answer' | 'max-steps' | 'loop' | 'stop-condition' | 'abort' | 'approval-required';

export interface AgentToolCall {
  name: string;
  args: unknown;
}

/** One model generation of a run and what came of it. */
export interface AgentStep {
  /** 1-based position in the run. */
  index: number;
  /**
   * `plan`: the model wrote a (re)plan. `tool`: it called a tool, or wrote a malformed call (then `toolCall` is
   * absent or names an unknown tool, and `result` holds the format error the model was shown). `answer`: it answered;
   * an answer that failed the output schema carries an error `result` and the run went on.
   */
  kind: 'plan' | 'tool' | 'answer';
  toolCall?: AgentToolCall;
  result?: ToolResult;
  /** The plan written at a `plan` step (absent when the model's plan could not be parsed). */
  plan?: AgentPlan;
  /** The raw model output of this step. */
  text?: string;
  /** True for an answer step constrained to the final answer by `maxSteps`, loop detection or a `stopWhen` condition. */
  forced?: boolean;
  usage?: GenerationUsage;
}

/** Token counts summed over the steps of a run. */
export interface AgentUsage extends GenerationUsage {
  /** Model generations in the run. */
  generations: number;
}

interface AgentResultBase {
  steps: AgentStep[];
  usage: AgentUsage;
}

/** The result of `agent.run`. `output` is the parsed answer (typed by `output`), or the answer text without one. */
export type AgentResult<Output = unknown> =
  | (AgentResultBase & { finishReason: 'answer' | 'max-steps' | 'loop' | 'stop-condition'; output: Output })
  | (AgentResultBase & { finishReason: 'abort'; output: undefined })
  | (AgentResultBase & {
      finishReason: 'approval-required';
      output: undefined;
      /** The calls waiting for a decision, in the order the model wrote them. */
      pendingApprovals: PendingToolApproval[];
      /** Plain JSON: pass it to `agent.resume(state, decisions)`, in this process or another. */
      state: AgentPausedState;
    });

/** The events of `agent.stream`, in the order they occur within a step. */
export type AgentEvent<Output = unknown> =
  /** A step begins; `mode` says what the model is asked for (`answer` = constrained to the final answer). */
  | { type: 'step-start'; step: number; mode: 'plan' | 'act' | 'answer' }
  /** Generated text, as it streams. */
  | { type: 'text-delta'; step: number; text: string }
  /** The model wrote a plan (`replan` after a tool failure or an exhausted plan). */
  | { type: 'plan'; step: number; plan: AgentPlan; replan: boolean }
  | { type: 'tool-call'; step: number; toolCall: AgentToolCall }
  | { type: 'tool-result'; step: number; toolCall: AgentToolCall; result: ToolResult }
  /** A call that waits for a person's decision; the run then ends with finishReason `approval-required`. */
  | { type: 'tool-approval-request'; step: number; approval: PendingToolApproval }
  | { type: 'step-end'; step: number; record: AgentStep }
  /** The last event of a run. */
  | { type: 'final'; result: AgentResult<Output> };

export interface AgentRunOptions {
  /** Cancels the current generation and any running tool; the run then ends with finishReason `abort`. */
  signal?: AbortSignal;
  /** Seed for sampled generation; step k uses `seed + k`, so a run is reproducible. Defaults to random. */
  seed?: number;
  /**
   * The conversation this run belongs to (`agent.session()`): the run sees the session's earlier exchanges and adds
   * its own. Defaults to none: the run starts from an empty context and shares nothing with other runs.
   */
  session?: AgentSession;
}

/**
 * A run's input: a string (the user's request), `{ inputFile }` (a path the tools read; other fields travel with it
 * as JSON), or any other object (sent to the model as JSON user content).
 */
export type AgentInput = string | { inputFile: string; [key: string]: unknown } | Record<string, unknown>;
