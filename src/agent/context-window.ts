/**
 * The agent's sliding context window.
 *
 * Layout of every prompt: the system messages (pinned), the exchanges of the session's earlier runs (one turn each:
 * the user's input and the agent's answer; none for a run without a session), the current run's input (pinned), then
 * the current run's turns (a plan, a tool call with its observation, or a note such as "answer now").
 *
 * Pinned, never evicted: the system messages (and the tools, which the chat template renders from the tool specs),
 * the current run's input, the current run's latest tool turn (its newest result), and the newest turn (what the
 * model is answering right now). Everything else is evicted oldest first when the window holds more than `maxTurns`
 * turns or renders to more than `maxTokens` tokens.
 *
 * Eviction policy and the prefix cache: the engine reuses the KV cache of the longest prefix a new prompt shares with
 * the previous sequence. While nothing is evicted, each step only appends to the prompt, so a step prefills only its
 * new tokens. Evicting a turn changes the prompt in the middle, so everything after it must be prefilled again.
 * Evicting one turn per step would pay that on nearly every step once the window is full; instead, when a limit is
 * passed, the window evicts down to a low-water mark (by default 60% of `maxTurns`, 75% of `maxTokens`), so the
 * following steps are append-only again until the window fills up. Evicted turns stay evicted.
 *
 * When even the pinned items exceed `maxTokens`, the latest tool result is truncated (with a marker the model can
 * see); when the system messages and the input alone exceed it, the run cannot proceed and an AgentError is thrown.
 */
import { AgentError } from '../errors';
import type { ChatMessage } from '../models/language-model';

export type ContextTurnKind = 'exchange' | 'plan' | 'tool' | 'note';

export interface ContextTurn {
  kind: ContextTurnKind;
  messages: ChatMessage[];
}

export interface ContextWindowOptions {
  /** Most turns kept (earlier exchanges plus the current run's turns). */
  maxTurns: number;
  /** Most prompt tokens, as `countTokens` measures them. */
  maxTokens: number;
  /** Tokens of a prompt made of these messages (the agent passes `model.countTokens(messages, { tools })`). */
  countTokens(messages: ChatMessage[]): number;
  /** After passing `maxTurns`, evict down to this fraction of it. Defaults to 0.6. */
  turnsLowWater?: number;
  /** After passing `maxTokens`, evict down to this fraction of it. Defaults to 0.75. */
  tokensLowWater?: number;
}

const TRUNCATION_MARKER = '\n[truncated: the rest of this result did not fit in the context window]';

export class ContextWindow {
  #options: Required<ContextWindowOptions>;
  #system: ChatMessage[] = [];
  #history: ContextTurn[] = [];
  #input: ChatMessage | undefined;
  #turns: ContextTurn[] = [];
  #evictedTurns = 0;
  #truncations = 0;

  constructor(options: ContextWindowOptions) {
    this.#options = { turnsLowWater: 0.6, tokensLowWater: 0.75, ...options };
  }

  /** Turns evicted so far. */
  get evictedTurns(): number {
    return this.#evictedTurns;
  }

  /** Tool results truncated so far because the pinned items alone did not fit. */
  get truncations(): number {
    return this.#truncations;
  }

  /** Replace the limits (e.g. once the model's context length is known). */
  setLimits(limits: { maxTurns?: number; maxTokens?: number }): void {
    Object.assign(this.#options, limits);
  }

  setSystem(messages: ChatMessage[]): void {
    this.#system = [...messages];
  }

  /** Start a run with its input message; the turns of an unfinished previous run are dropped. */
  beginRun(input: ChatMessage): void {
    this.#input = input;
    this.#turns = [];
  }

  /** The current run's input and turns (a paused run keeps them in its state). */
  currentRun(): { input: ChatMessage | undefined; turns: ContextTurn[] } {
    return { input: this.#input, turns: this.#turns.map((turn) => ({ kind: turn.kind, messages: [...turn.messages] })) };
  }

  /** Continue a paused run: its input and turns as `currentRun()` gave them, replacing any unfinished run. */
  restoreRun(input: ChatMessage, turns: readonly ContextTurn[]): void {
    this.#input = input;
    this.#turns = turns.map((turn) => ({ kind: turn.kind, messages: [...turn.messages] }));
  }

  /** Add a turn to the current run. */
  addTurn(kind: Exclude<ContextTurnKind, 'exchange'>, messages: ChatMessage[]): void {
    this.#turns.push({ kind, messages: [...messages] });
  }

  /** Append a message to the newest turn of the current run (e.g. the plan that answers a replan request). */
  appendToNewestTurn(message: ChatMessage): void {
    const newest = this.#turns.at(-1);
    if (newest === undefined) throw new AgentError('ContextWindow.appendToNewestTurn: the current run has no turn yet.');
    newest.messages.push(message);
  }

  /**
   * End the current run. With an answer, the run is kept as one exchange (input, answer) for later runs; without one
   * (an aborted run), it is dropped.
   */
  endRun(answer: ChatMessage | undefined): void {
    if (this.#input !== undefined && answer !== undefined) {
      this.#history.push({ kind: 'exchange', messages: [this.#input, answer] });
    }
    this.#input = undefined;
    this.#turns = [];
  }

  /** The turns currently in the window (earlier exchanges, then the current run's). */
  turns(): readonly ContextTurn[] {
    return [...this.#history, ...this.#turns];
  }

  /** The prompt messages after applying the limits (which may evict turns, permanently). */
  messages(): ChatMessage[] {
    const { maxTurns, maxTokens, turnsLowWater, tokensLowWater } = this.#options;
    if (this.#turnCount() > maxTurns) {
      const target = Math.max(1, Math.floor(maxTurns * turnsLowWater));
      while (this.#turnCount() > target && this.#evictOldest());
    }
    if (this.#tokens() > maxTokens) {
      const target = Math.floor(maxTokens * tokensLowWater);
      while (this.#tokens() > target && this.#evictOldest());
      if (this.#tokens() > maxTokens) this.#truncateLatestResult();
      const tokens = this.#tokens();
      if (tokens > maxTokens) {
        throw new AgentError(
          `The agent's prompt needs ${tokens} tokens even after evicting every turn it may evict, over the context budget of ${maxTokens} tokens: shorten the instructions or the run input, or raise context.maxTokens (and the model's context).`,
          { details: { tokens, maxTokens } },
        );
      }
    }
    return this.#assemble();
  }

  #assemble(): ChatMessage[] {
    const messages = [...this.#system];
    for (const turn of this.#history) messages.push(...turn.messages);
    if (this.#input !== undefined) messages.push(this.#input);
    for (const turn of this.#turns) messages.push(...turn.messages);
    return messages;
  }

  #tokens(): number {
    return this.#options.countTokens(this.#assemble());
  }

  #turnCount(): number {
    return this.#history.length + this.#turns.length;
  }

  /** The pinned turns of the current run: its latest tool turn and its newest turn. */
  #pinned(): Set<ContextTurn> {
    const pinned = new Set<ContextTurn>();
    const newest = this.#turns.at(-1);
    if (newest !== undefined) pinned.add(newest);
    const latestTool = this.#turns.findLast((turn) => turn.kind === 'tool');
    if (latestTool !== undefined) pinned.add(latestTool);
    return pinned;
  }

  /** Evict the oldest evictable turn; false when none is left. */
  #evictOldest(): boolean {
    if (this.#history.length > 0) {
      this.#history.shift();
      this.#evictedTurns += 1;
      return true;
    }
    const pinned = this.#pinned();
    const index = this.#turns.findIndex((turn) => !pinned.has(turn));
    if (index === -1) return false;
    this.#turns.splice(index, 1);
    this.#evictedTurns += 1;
    return true;
  }

  /**
   * Shorten the latest tool result so the pinned items fit, keeping its beginning and saying it was cut; if that is
   * not enough, the call's own text too (a call cut off at maxNewTokens can be as long as the whole budget).
   */
  #truncateLatestResult(): void {
    const turn = this.#turns.findLast((candidate) => candidate.kind === 'tool');
    if (turn === undefined) return;
    const observation = turn.messages.findLastIndex((message) => message.role === 'observation');
    const call = turn.messages.findLastIndex((message) => message.role === 'assistant');
    for (const index of [observation, call]) {
      if (index !== -1 && this.#tokens() > this.#options.maxTokens) this.#truncateMessage(turn, index);
    }
  }

  #truncateMessage(turn: ContextTurn, index: number): void {
    const { maxTokens } = this.#options;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const total = this.#tokens();
      if (total <= maxTokens) return;
      const original = turn.messages[index]!;
      const content = original.content.endsWith(TRUNCATION_MARKER)
        ? original.content.slice(0, -TRUNCATION_MARKER.length)
        : original.content;
      turn.messages[index] = { ...original, content: '' };
      const resultTokens = total - this.#tokens();
      const keep = resultTokens - (total - maxTokens) - 8;
      const length = keep <= 0 || resultTokens <= 0 ? 0 : Math.floor((content.length * keep) / resultTokens);
      turn.messages[index] = { ...original, content: content.slice(0, length) + TRUNCATION_MARKER };
      if (attempt === 0) this.#truncations += 1;
      if (length === 0) return;
    }
  }
}
