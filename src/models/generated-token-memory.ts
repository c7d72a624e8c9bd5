/**
 * The token ids of recent generations, so that a chat prompt which shows the model its own earlier output (an agent's
 * tool call, a chat reply) carries the ids the model generated instead of the tokenizer's canonical split of the
 * same text.
 *
 * Why: under a grammar (and when sampling) a model often writes a word in a split the tokenizer would never produce
 * (`l`,`e`,`d`,`g`,`e`,`r` where encode gives `l`,`ed`,`g`,`er`). Re-encoding the rendered history then differs from
 * the sequence whose KV the engine holds, inside the previous output, and the prefix cache has to prefill from there.
 * With the generated ids spliced back in, the next prompt extends the previous sequence exactly.
 *
 * Exactness: the splice only replaces the content of an assistant message (the ids between `<|assistant|>` and the
 * next special token of the canonical encoding) and only when the generated ids decode to exactly that content's
 * text, or to the text the model wrote for the same recorded call (`recordedCallText`). Every other id is the
 * canonical encoding's.
 *
 * Templates that render a recorded call differently from how the model writes it (GLM-4-0414: `{name} \n{args}`
 * where the model wrote `{name}\n{args}`) are the one case where the prompt's text differs from the template's: the
 * history then shows the model what it really wrote (docs/agent-loop.md, "History: the model's own ids"). With
 * `history: 'template'` only exact-text matches are spliced and the prompt is the template's rendering.
 *
 * Several calls in one turn (`name\n{..}<|assistant|>name\n{..}`) are remembered one call at a time, split at
 * `<|assistant|>`, since the template renders each as its own assistant message.
 */

export interface GeneratedTokenMemoryOptions {
  /** Text of token ids, special tokens included (the model's decode). Required. */
  decode(ids: readonly number[]): string;
  /** Id of the token that opens an assistant message (`<|assistant|>`). Required. */
  assistantTokenId: number;
  /** Ids of the special tokens: they delimit message contents in an encoded chat. Required. */
  specialTokenIds: ReadonlySet<number>;
  /** Ids that end a generation (not part of its text): dropped from the end of what is remembered. Required. */
  stopTokenIds: readonly number[];
  /** Generations remembered (the oldest is forgotten first). Defaults to 32. */
  capacity?: number;
  /**
   * For the content of a rendered assistant message, the text the model itself writes for it when that differs
   * (a recorded call rendered as `{name} \n{args}`); undefined when they agree. Defaults to none.
   */
  recordedCallText?: (renderedText: string) => string | undefined;
  /**
   * 'generated' (the default): splice the model's own ids also where the template renders a call differently
   * (`recordedCallText`), so steps 2..n extend the sequence the KV cache holds. 'template': only where the texts
   * are equal, keeping the template's rendering.
   */
  history?: 'generated' | 'template';
  /**
   * Text the generation prompt writes after `<|assistant|>` (GLM-Edge: `\n`): generations start after it, so in a
   * rendered assistant message it is skipped before matching. Defaults to ''.
   */
  contentPrefix?: string;
}

interface Remembered {
  /** The latest generation of this text. */
  ids: number[];
  /**
   * Every generation of this text still remembered, oldest first: a history that shows the same text twice (an
   * agent repeating a call) gets each occurrence's own ids, in order, as the cache holds them.
   */
  occurrences: number[][];
  text: string;
}

export class GeneratedTokenMemory {
  readonly #options: GeneratedTokenMemoryOptions;
  readonly #capacity: number;
  readonly #stop: ReadonlySet<number>;
  /** By decoded text, oldest first (Map insertion order). */
  readonly #entries = new Map<string, Remembered>();

  constructor(options: GeneratedTokenMemoryOptions) {
    this.#options = options;
    this.#capacity = options.capacity ?? 32;
    this.#stop = new Set(options.stopTokenIds);
  }

  /** Number of generations held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Remembers the ids of one generation (its trailing stop token, if any, is not part of its text). */
  remember(generatedIds: readonly number[]): void {
    let end = generatedIds.length;
    while (end > 0 && this.#stop.has(generatedIds[end - 1]!)) end--;
    if (end === 0) return;
    let start = 0;
    for (let index = 0; index <= end; index++) {
      if (index === end || generatedIds[index] === this.#options.assistantTokenId) {
        if (index > start) this.#rememberOne(generatedIds.slice(start, index));
        start = index + 1;
      }
    }
  }

  #rememberOne(ids: number[]): void {
    if (ids.some((id) => this.#options.specialTokenIds.has(id))) return; // never inside one message's content
    const text = this.#options.decode(ids);
    const occurrences = this.#entries.get(text)?.occurrences ?? [];
    occurrences.push(ids);
    if (occurrences.length > 8) occurrences.shift();
    this.#entries.delete(text);
    this.#entries.set(text, { ids, occurrences, text });
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /**
   * `promptIds` (a canonically encoded chat) with the content of each assistant message that is, or starts, a
   * remembered generation replaced by the generated ids. Returns `promptIds` itself when nothing matched.
   */
  splice(promptIds: readonly number[]): readonly number[] {
    if (this.#entries.size === 0) return promptIds;
    const { assistantTokenId, specialTokenIds } = this.#options;
    const contents: Array<{ start: number; end: number; text: string }> = [];
    for (let index = 0; index < promptIds.length; index++) {
      if (promptIds[index] !== assistantTokenId) continue;
      const start = index + 1;
      let end = start;
      while (end < promptIds.length && !specialTokenIds.has(promptIds[end]!)) end++;
      index = end - 1;
      if (end > start) contents.push(this.#afterPrefix(promptIds, start, end));
    }
    // The same text shown several times (a repeated call): the last occurrence is the newest generation.
    const left = new Map<string, number>();
    for (const { text } of contents) left.set(text, (left.get(text) ?? 0) + 1);
    let result: number[] | undefined;
    let copied = 0;
    for (const { start, end, text } of contents) {
      const remaining = left.get(text)!;
      left.set(text, remaining - 1);
      let generated = this.#generatedIdsFor(text, remaining - 1);
      if (generated === undefined && this.#options.history !== 'template') {
        const written = this.#options.recordedCallText?.(text);
        if (written !== undefined) generated = this.#generatedIdsFor(written, remaining - 1);
      }
      const canonical = promptIds.slice(start, end);
      if (generated === undefined || sameIds(generated, canonical)) continue;
      result ??= [];
      for (let at = copied; at < start; at++) result.push(promptIds[at]!);
      for (const id of generated) result.push(id);
      copied = end;
    }
    if (result === undefined) return promptIds;
    for (let at = copied; at < promptIds.length; at++) result.push(promptIds[at]!);
    return result;
  }

  /** An assistant message's content ids, without the generation prompt's own text (`contentPrefix`) at its start. */
  #afterPrefix(promptIds: readonly number[], start: number, end: number): { start: number; end: number; text: string } {
    const text = this.#options.decode(promptIds.slice(start, end));
    const prefix = this.#options.contentPrefix ?? '';
    if (prefix === '' || !text.startsWith(prefix)) return { start, end, text };
    for (let at = start + 1; at <= end; at++) {
      if (this.#options.decode(promptIds.slice(start, at)) === prefix) return { start: at, end, text: text.slice(prefix.length) };
    }
    return { start, end, text };
  }

  /**
   * The generated ids whose text is exactly `text` (the generation `later` places before the newest one), else the
   * start of one (a trimmed call).
   */
  #generatedIdsFor(text: string, later: number): readonly number[] | undefined {
    const exact = this.#entries.get(text);
    if (exact !== undefined) return exact.occurrences[exact.occurrences.length - 1 - later] ?? exact.occurrences[0];
    for (const entry of this.#entries.values()) {
      if (!entry.text.startsWith(text)) continue;
      for (let count = 1; count < entry.ids.length; count++) {
        const prefix = this.#options.decode(entry.ids.slice(0, count));
        if (prefix === text) return entry.ids.slice(0, count);
      }
    }
    return undefined;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}
