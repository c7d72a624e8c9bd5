/**
 * Human approval of tool calls: what a paused agent run hands back (the pending calls and a plain-JSON state), the
 * decisions that continue it, and their checks. The flow itself is in agent-run.ts; docs/agent-loop.md shows it.
 */
import { z } from 'zod';
import { ToolApprovalError } from '../errors';
import type { ChatMessage } from '../models/language-model';
import { assertKnownNames } from '../strict-options';
import type { ToolResult } from '../tools/tool';
import type { AgentInput, AgentStep, AgentToolCall, AgentUsage } from './agent-events';
import type { AgentPlan } from './agent-plan';
import type { ContextTurn } from './context-window';

/** A call the model made that waits for a person's decision; the tool has not run. */
export interface PendingToolApproval extends AgentToolCall {
  /** `call-<step>-<n>`: the n-th call the model wrote at that step; unique within the run. */
  id: string;
}

/** A person's answer to one pending call. */
export interface ToolApprovalDecision {
  /** The pending call's `id`. */
  id: string;
  /** true runs the call; false does not, and the model sees the denial (with `reason`) as the call's observation. */
  approved: boolean;
  /** Why: shown to the model for a denial; recorded for the audit either way. Defaults to none. */
  reason?: string;
  /** Who decided, for the audit (a workflow journals it). Defaults to none. */
  by?: string;
}

/** One call of the paused step, as the model wrote it. */
export interface PausedToolCall {
  id: string;
  name: string;
  args: unknown;
  /** The call's arguments as the model wrote them (replayed into the prompt unchanged). */
  argumentsText: string;
  /** How often the run has seen this exact call (1: first time, runs; more: answered with a repeat note). */
  seen: number;
  /** Needed approval when the run paused. */
  needsApproval: boolean;
}

/**
 * Everything a paused run needs to continue, as plain JSON: `JSON.parse(JSON.stringify(state))` continues it in
 * another process (`agent.resume(state, decisions)` on an agent with the same task and tools). It holds the run's
 * input, its turns so far (tool results included) and its steps: store it as you would the conversation itself.
 * A session's earlier exchanges are not in it; pass the session again to keep them in the prompt.
 */
export interface AgentPausedState {
  kind: 'autoglm.agent-paused';
  format: 1;
  /** The agent's task: resuming on an agent with another task is refused. */
  task: string;
  runId: string;
  /** The run's input (an input file as its absolute path). */
  input: AgentInput;
  inputMessage: ChatMessage;
  /** The current run's context turns (plan, tool turns, notes) before the paused step. */
  turns: ContextTurn[];
  /** The paused step: its number, the model's text, its usage and its calls. */
  pending: { step: number; text: string; usage: AgentStep['usage']; calls: PausedToolCall[] };
  loop: {
    steps: AgentStep[];
    usage: AgentUsage;
    repeats: Array<[string, number]>;
    plan?: AgentPlan;
    callsSincePlan: number;
    replanning: boolean;
    forcedReason?: 'max-steps' | 'loop' | 'stop-condition';
    forcedNoteAdded: boolean;
  };
  seed?: number;
}

const messageSchema = z.looseObject({ role: z.string(), content: z.string() });
const pausedStateSchema = z.looseObject({
  kind: z.literal('autoglm.agent-paused'),
  format: z.literal(1),
  task: z.string(),
  runId: z.string(),
  input: z.union([z.string(), z.record(z.string(), z.unknown())]),
  inputMessage: messageSchema,
  turns: z.array(z.looseObject({ kind: z.enum(['plan', 'tool', 'note']), messages: z.array(messageSchema) })),
  pending: z.looseObject({
    step: z.number().int().min(1),
    text: z.string(),
    calls: z
      .array(
        z.looseObject({ id: z.string().min(1), name: z.string().min(1), argumentsText: z.string(), seen: z.number().int().min(1), needsApproval: z.boolean() }),
      )
      .min(1),
  }),
  loop: z.looseObject({
    steps: z.array(z.looseObject({ index: z.number(), kind: z.enum(['plan', 'tool', 'answer']) })),
    usage: z.looseObject({ promptTokens: z.number(), completionTokens: z.number(), generations: z.number() }),
    repeats: z.array(z.tuple([z.string(), z.number()])),
    callsSincePlan: z.number(),
    replanning: z.boolean(),
    forcedNoteAdded: z.boolean(),
  }),
});

/** Refuses a paused state that is not one (edited, truncated, from another agent's task). */
export function checkPausedState(state: unknown, task: string): AgentPausedState {
  const parsed = pausedStateSchema.safeParse(state);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'state'}: ${issue.message}`).join('; ');
    throw new ToolApprovalError(`AutoAgent.resume: the state is not a paused agent run (result.state of a run that ended with finishReason "approval-required"): ${problems}.`, {
      details: { kind: 'malformed' },
    });
  }
  const paused = parsed.data as unknown as AgentPausedState;
  if (paused.task !== task) {
    throw new ToolApprovalError('AutoAgent.resume: the state was paused by an agent with another task; resume it on an agent with the same task and tools.', {
      details: { kind: 'malformed' },
    });
  }
  return paused;
}

const decisionNames = Object.keys({ id: true, approved: true, reason: true, by: true } satisfies Record<keyof ToolApprovalDecision, true>);

/**
 * Checks `decisions` against the calls that wait for one: each is well-formed, names a waiting call, no call twice,
 * and every waiting call has one. Returns them by call id.
 */
export function checkDecisions(decisions: unknown, waiting: readonly string[], where: string): Map<string, ToolApprovalDecision> {
  const fail = (kind: string, message: string, ids: string[] = []) => new ToolApprovalError(`${where}: ${message}`, { details: { kind, ids, waiting: [...waiting] } });
  if (!Array.isArray(decisions)) throw fail('malformed', `decisions must be an array of { id, approved, reason? }, got ${describe(decisions)}.`);
  const byId = new Map<string, ToolApprovalDecision>();
  const duplicates: string[] = [];
  decisions.forEach((decision: unknown, index) => {
    if (typeof decision !== 'object' || decision === null || Array.isArray(decision)) {
      throw fail('malformed', `decisions[${index}] must be an object { id, approved, reason? }, got ${describe(decision)}.`);
    }
    assertKnownNames(decision, decisionNames, { where: `${where}: decisions[${index}]`, kind: 'field', error: ToolApprovalError });
    const { id, approved, reason, by } = decision as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') throw fail('malformed', `decisions[${index}].id must be the id of a pending call (${waiting.join(', ')}), got ${describe(id)}.`);
    if (typeof approved !== 'boolean') throw fail('malformed', `decisions[${index}] (call ${id}): approved must be true or false, got ${describe(approved)}.`, [id]);
    if (reason !== undefined && typeof reason !== 'string') throw fail('malformed', `decisions[${index}] (call ${id}): reason must be a string, got ${describe(reason)}.`, [id]);
    if (by !== undefined && typeof by !== 'string') throw fail('malformed', `decisions[${index}] (call ${id}): by must be a string, got ${describe(by)}.`, [id]);
    if (byId.has(id)) duplicates.push(id);
    byId.set(id, { id, approved, ...(reason === undefined ? {} : { reason }), ...(by === undefined ? {} : { by }) });
  });
  if (duplicates.length > 0) throw fail('duplicate-decision', `more than one decision for ${list(duplicates)}; give one decision per call.`, duplicates);
  const unknown = [...byId.keys()].filter((id) => !waiting.includes(id));
  if (unknown.length > 0) {
    throw fail('unknown-call', `no pending call has the id ${list(unknown)}; the calls waiting for a decision are ${list([...waiting]) || 'none'}.`, unknown);
  }
  const missing = waiting.filter((id) => !byId.has(id));
  if (missing.length > 0) throw fail('missing-decision', `no decision for ${list(missing)}; approve or deny every pending call.`, missing);
  return byId;
}

/** What the model sees for a denied call: the tool did not run, and why. */
export function deniedResult(name: string, decision: ToolApprovalDecision): ToolResult {
  const reason = decision.reason?.trim();
  return {
    ok: false,
    error: {
      code: 'TOOL_DENIED',
      message: `A person denied this call to ${name}${reason ? `: ${reason}` : ''}. The tool did not run. Do not repeat the call; continue without it, or answer.`,
    },
  };
}

function list(ids: string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
