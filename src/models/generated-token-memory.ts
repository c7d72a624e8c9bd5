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
 * text. Every other id is the canonical encoding's; the prompt decodes to the same text either way.
 *
 * Per conversation: a generation is remembered under the prompt that produced it, and only spliced into a prompt
 * that continues exactly that prompt (the ids up to the assistant message's `<|assistant|>`). So what one request
 * runs never depends on which other requests ran before or beside it (issue 18 item 11: a global 32-entry memory
 * was evicted under load, and served one conversation's ids to another's identical text).
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
  /** Generations remembered (the least recently used is forgotten first). Defaults to 4096. */
  capacity?: number;
  /** Generated ids remembered in all (the least recently used generations are forgotten first). Defaults to 1,048,576. */
  capacityTokens?: number;
}

interface Remembered {
  ids: number[];
  text: string;
  /** Key of the prompt that produced it. */
  prompt: string;
}

export class GeneratedTokenMemory {
  readonly #options: GeneratedTokenMemoryOptions;
  readonly #capacity: number;
  readonly #capacityTokens: number;
  readonly #stop: ReadonlySet<number>;
  /** By prompt key and decoded text, least recently used first (Map insertion order). */
  readonly #entries = new Map<string, Remembered>();
  #tokens = 0;

  constructor(options: GeneratedTokenMemoryOptions) {
    this.#options = options;
    this.#capacity = options.capacity ?? 4096;
    this.#capacityTokens = options.capacityTokens ?? 1_048_576;
    this.#stop = new Set(options.stopTokenIds);
  }

  /** Number of generations held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Remembers the ids of one generation (its trailing stop token, if any, is not part of its text) under the
   * prompt ids it was generated from.
   */
  remember(generatedIds: readonly number[], promptIds: readonly number[]): void {
    let end = generatedIds.length;
    while (end > 0 && this.#stop.has(generatedIds[end - 1]!)) end--;
    if (end === 0) return;
    const ids = generatedIds.slice(0, end);
    if (ids.some((id) => this.#options.specialTokenIds.has(id))) return; // never inside one message's content
    const text = this.#options.decode(ids);
    const prompt = promptKey(createHash('sha256').update(idBytes(promptIds, 0, promptIds.length)));
    this.#forget(`${prompt}:${text}`);
    this.#entries.set(`${prompt}:${text}`, { ids, text, prompt });
    this.#tokens += ids.length;
    while (this.#entries.size > this.#capacity || (this.#tokens > this.#capacityTokens && this.#entries.size > 1)) {
      this.#forget(this.#entries.keys().next().value!);
    }
  }

  /**
   * `promptIds` (a canonically encoded chat) with the content of each assistant message that is, or starts, a
   * remembered generation replaced by the generated ids. Returns `promptIds` itself when nothing matched.
   */
  splice(promptIds: readonly number[]): readonly number[] {
    if (this.#entries.size === 0) return promptIds;
    const { assistantTokenId, specialTokenIds } = this.#options;
    let result: number[] | undefined;
    let copied = 0;
    // Hash of the ids before `start` as they will be in the result (earlier splices included).
    const prefix = createHash('sha256');
    let hashed = 0;
    for (let index = 0; index < promptIds.length; index++) {
      if (promptIds[index] !== assistantTokenId) continue;
      const start = index + 1;
      let end = start;
      while (end < promptIds.length && !specialTokenIds.has(promptIds[end]!)) end++;
      index = end - 1;
      prefix.update(idBytes(promptIds, hashed, start));
      hashed = start;
      if (end === start) continue;
      const canonical = promptIds.slice(start, end);
      const generated = this.#generatedIdsFor(this.#options.decode(canonical), promptKey(prefix.copy()));
      prefix.update(idBytes(generated ?? canonical, 0, (generated ?? canonical).length));
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

  /**
   * The ids generated from `prompt` whose text is exactly `text`: a whole generation, else the start of one (a
   * trimmed call). A hit becomes the most recently used.
   */
  #generatedIdsFor(text: string, prompt: string): readonly number[] | undefined {
    const exact = this.#entries.get(`${prompt}:${text}`);
    if (exact !== undefined) return this.#used(exact).ids;
    for (const entry of this.#entries.values()) {
      if (entry.prompt !== prompt || !entry.text.startsWith(text)) continue;
      for (let count = 1; count < entry.ids.length; count++) {
        const prefix = this.#options.decode(entry.ids.slice(0, count));
        if (prefix === text) return this.#used(entry).ids.slice(0, count);
      }
    }
    return undefined;
  }

  #used(entry: Remembered): Remembered {
    const key = `${entry.prompt}:${entry.text}`;
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
