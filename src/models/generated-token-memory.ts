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
 *
 * Per conversation: a remembered call is keyed by a SHA-256 of every id that preceded it in the sequence the model
 * actually ran (the prompt ids; for the k-th call of a turn also the generated ids up to and including the
 * `<|assistant|>` before it, and the generation prompt's own text, `contentPrefix`, if the model wrote it there). It
 * is only spliced into a prompt whose ids before that assistant content, as they will be in the result (earlier
 * splices included), hash to the same key. So what one request runs never depends on which other requests ran before
 * or beside it (issue 18 item 11: a global 32-entry memory by text was evicted under load, and served one
 * conversation's ids to another's identical text), and a call repeated in a later turn gets its own ids, since its
 * prefix differs. The memory is bounded by least recent use: `capacity` calls and `capacityTokens` ids.
 */
import { createHash, type Hash } from 'node:crypto';

export interface GeneratedTokenMemoryOptions {
  /** Text of token ids, special tokens included (the model's decode). Required. */
  decode(ids: readonly number[]): string;
  /** Id of the token that opens an assistant message (`<|assistant|>`). Required. */
  assistantTokenId: number;
  /** Ids of the special tokens: they delimit message contents in an encoded chat. Required. */
  specialTokenIds: ReadonlySet<number>;
  /** Ids that end a generation (not part of its text): dropped from the end of what is remembered. Required. */
  stopTokenIds: readonly number[];
  /** Calls remembered (the least recently used is forgotten first). Defaults to 4096. */
  capacity?: number;
  /** Generated ids remembered in all (the least recently used calls are forgotten first). Defaults to 1,048,576. */
  capacityTokens?: number;
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
  ids: number[];
  text: string;
  /** Key of the ids that preceded it. */
  prefix: string;
}

export class GeneratedTokenMemory {
  readonly #options: GeneratedTokenMemoryOptions;
  readonly #capacity: number;
  readonly #capacityTokens: number;
  readonly #stop: ReadonlySet<number>;
  /** By prefix key and decoded text (`${prefix}:${text}`), least recently used first (Map insertion order). */
  readonly #entries = new Map<string, Remembered>();
  #tokens = 0;

  constructor(options: GeneratedTokenMemoryOptions) {
    this.#options = options;
    this.#capacity = options.capacity ?? 4096;
    this.#capacityTokens = options.capacityTokens ?? 1_048_576;
    this.#stop = new Set(options.stopTokenIds);
  }

  /** Number of calls (remembered pieces of generations) held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Remembers the ids of one generation (its trailing stop token, if any, is not part of its text), generated from
   * `promptIds` (the ids the model ran, as given to it), one call at a time (split at `<|assistant|>`).
   */
  remember(generatedIds: readonly number[], promptIds: readonly number[]): void {
    let end = generatedIds.length;
    while (end > 0 && this.#stop.has(generatedIds[end - 1]!)) end--;
    if (end === 0) return;
    // Hash of every id before `start`: the prompt, then the generated ids already passed.
    const hash = createHash('sha256').update(idBytes(promptIds, 0, promptIds.length));
    let hashed = 0;
    let start = 0;
    for (let index = 0; index <= end; index++) {
      if (index !== end && generatedIds[index] !== this.#options.assistantTokenId) continue;
      // After an `<|assistant|>` the model wrote itself, the generation prompt's text (if written) precedes the call.
      if (start > 0) start = this.#afterPrefix(generatedIds, start, index).start;
      if (index > start) {
        hash.update(idBytes(generatedIds, hashed, start));
        hashed = start;
        this.#rememberOne(generatedIds.slice(start, index), promptKey(hash.copy()));
      }
      start = index + 1;
    }
  }

  #rememberOne(ids: number[], prefix: string): void {
    if (ids.some((id) => this.#options.specialTokenIds.has(id))) return; // never inside one message's content
    const text = this.#options.decode(ids);
    const key = `${prefix}:${text}`;
    this.#forget(key);
    this.#entries.set(key, { ids, text, prefix });
    this.#tokens += ids.length;
    while (this.#entries.size > this.#capacity || (this.#tokens > this.#capacityTokens && this.#entries.size > 1)) {
      this.#forget(this.#entries.keys().next().value!);
    }
  }

  /**
   * `promptIds` (a canonically encoded chat) with the content of each assistant message that is, or starts, a call
   * remembered under the same preceding ids replaced by the generated ids. Returns `promptIds` itself when nothing
   * matched.
   */
  splice(promptIds: readonly number[]): readonly number[] {
    if (this.#entries.size === 0) return promptIds;
    const { assistantTokenId, specialTokenIds } = this.#options;
    let result: number[] | undefined;
    let copied = 0;
    // Hash of the ids before `hashed` as they will be in the result (earlier splices included).
    const hash = createHash('sha256');
    let hashed = 0;
    for (let index = 0; index < promptIds.length; index++) {
      if (promptIds[index] !== assistantTokenId) continue;
      let end = index + 1;
      while (end < promptIds.length && !specialTokenIds.has(promptIds[end]!)) end++;
      const content = this.#afterPrefix(promptIds, index + 1, end);
      index = end - 1;
      if (content.end === content.start) continue;
      const { start, text } = content;
      hash.update(idBytes(promptIds, hashed, start));
      hashed = start;
      const prefix = promptKey(hash.copy());
      let generated = this.#generatedIdsFor(text, prefix);
      if (generated === undefined && this.#options.history !== 'template') {
        const written = this.#options.recordedCallText?.(text);
        if (written !== undefined) generated = this.#generatedIdsFor(written, prefix);
      }
      const canonical = promptIds.slice(start, end);
      const used = generated ?? canonical;
      hash.update(idBytes(used, 0, used.length));
      hashed = end;
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
  #afterPrefix(ids: readonly number[], start: number, end: number): { start: number; end: number; text: string } {
    if (end <= start) return { start, end: start, text: '' }; // decode may refuse no ids
    const text = this.#options.decode(ids.slice(start, end));
    const prefix = this.#options.contentPrefix ?? '';
    if (prefix === '' || !text.startsWith(prefix)) return { start, end, text };
    for (let at = start + 1; at <= end; at++) {
      if (this.#options.decode(ids.slice(start, at)) === prefix) return { start: at, end, text: text.slice(prefix.length) };
    }
    return { start, end, text };
  }

  /**
   * The ids generated after `prefix` whose text is exactly `text`: a whole call, else the start of one (a trimmed
   * call). A hit becomes the most recently used.
   */
  #generatedIdsFor(text: string, prefix: string): readonly number[] | undefined {
    const exact = this.#entries.get(`${prefix}:${text}`);
    if (exact !== undefined) return this.#used(exact).ids;
    for (const entry of this.#entries.values()) {
      if (entry.prefix !== prefix || !entry.text.startsWith(text)) continue;
      for (let count = 1; count < entry.ids.length; count++) {
        if (this.#options.decode(entry.ids.slice(0, count)) === text) return this.#used(entry).ids.slice(0, count);
      }
    }
    return undefined;
  }

  #used(entry: Remembered): Remembered {
    const key = `${entry.prefix}:${entry.text}`;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#tokens -= entry.ids.length;
  }
}

function promptKey(hash: Hash): string {
  return hash.digest('base64');
}

/** Ids `[from, to)` as bytes to hash (token ids are below 2^32). */
function idBytes(ids: readonly number[], from: number, to: number): Uint8Array {
  const words = new Uint32Array(Math.max(0, to - from));
  for (let index = from; index < to; index++) words[index - from] = ids[index]!;
  return new Uint8Array(words.buffer);
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}
