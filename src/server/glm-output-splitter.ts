/**
 * Splits GLM output, as it streams, into answer text and a tool call (GLM.md section 5: a call is `name\n{json}`,
 * an answer starts with `\n`). Shared by the OpenAI adapter and the AI SDK provider, which both turn it into
 * deltas: text deltas, then one tool call's start (its name) and argument deltas.
 */
export type GlmOutputPart =
  | { type: 'text'; delta: string }
  | { type: 'tool-call-start'; name: string }
  | { type: 'tool-arguments'; delta: string };

export class GlmOutputSplitter {
  readonly #tools: boolean;
  #mode: 'undecided' | 'text' | 'call' = 'undecided';
  #pending = '';
  #name: string | undefined;
  #arguments = '';
  #text = '';

  /** `tools`: whether the request offered tools; without them every character is answer text. */
  constructor(tools: boolean) {
    this.#tools = tools;
    if (!tools) this.#mode = 'text';
  }

  /** The parts a new piece of output completes. */
  push(delta: string): GlmOutputPart[] {
    if (delta === '') return [];
    if (this.#mode === 'text') return this.#emitText(delta);
    if (this.#mode === 'call') {
      this.#arguments += delta;
      return [{ type: 'tool-arguments', delta }];
    }
    this.#pending += delta;
    if (this.#pending.startsWith('\n')) {
      this.#mode = 'text';
      const rest = this.#pending.slice(1);
      this.#pending = '';
      return this.#emitText(rest);
    }
    const newline = this.#pending.indexOf('\n');
    if (newline === -1) return [];
    this.#mode = 'call';
    this.#name = this.#pending.slice(0, newline).trim();
    const rest = this.#pending.slice(newline + 1);
    this.#pending = '';
    this.#arguments = rest;
    return [{ type: 'tool-call-start', name: this.#name }, ...(rest === '' ? [] : [{ type: 'tool-arguments' as const, delta: rest }])];
  }

  /** Ends the output: a first line that never ended (cut off) is answer text. */
  end(): GlmOutputPart[] {
    if (this.#mode !== 'undecided' || this.#pending === '') return [];
    this.#mode = 'text';
    const rest = this.#pending;
    this.#pending = '';
    return this.#emitText(rest);
  }

  /** The tool call written, if any (`arguments` as the model wrote it). */
  get toolCall(): { name: string; arguments: string } | undefined {
    return this.#name === undefined ? undefined : { name: this.#name, arguments: this.#arguments.trim() };
  }

  /** The answer text written so far. */
  get text(): string {
    return this.#text;
  }

  /** Whether tools were offered at all. */
  get tools(): boolean {
    return this.#tools;
  }

  #emitText(delta: string): GlmOutputPart[] {
    if (delta === '') return [];
    this.#text += delta;
    return [{ type: 'text', delta }];
  }
}
