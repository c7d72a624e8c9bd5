/**
 * A conversation with one AutoAgent. Runs given the same session see each other's exchanges (input and answer); a
 * run given none starts from an empty context and leaves nothing behind. A service keeps one session per user (or
 * none), never one that all its callers share: history across runs is always asked for, never a default.
 */
import type { ContextWindow } from './context-window';

export class AgentSession {
  /** The turns the session's next prompt is built from (its earlier runs' exchanges). */
  readonly context: ContextWindow;
  readonly #owner: object;

  /** Made by `agent.session()`; a session belongs to the agent that made it. */
  constructor(owner: object, context: ContextWindow) {
    this.#owner = owner;
    this.context = context;
  }

  /** True when `agent` made this session. */
  belongsTo(agent: object): boolean {
    return this.#owner === agent;
  }
}
