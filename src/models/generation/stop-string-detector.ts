/** What the detector lets out after a piece of text. */
export interface StopStringResult {
  /** Text that can no longer be part of a stop string: safe to emit. */
  text: string;
  /** True when a stop string was found; `text` then ends just before it and everything after it is dropped. */
  stopped: boolean;
}

/**
 * Finds stop strings in text that arrives in pieces (one token at a time), across piece boundaries. Text that
 * could still turn into a stop string is held back until the next piece decides it; a found stop string is not
 * part of the emitted text.
 */
export class StopStringDetector {
  readonly stopStrings: readonly string[];
  #pending = '';
  #stopped = false;

  constructor(stopStrings: readonly string[] = []) {
    this.stopStrings = stopStrings.filter((stop) => stop.length > 0);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds the next piece of text. */
  push(piece: string): StopStringResult {
    if (this.#stopped) return { text: '', stopped: true };
    if (this.stopStrings.length === 0) return { text: piece, stopped: false };
    const pending = this.#pending + piece;
    let first = -1;
    for (const stop of this.stopStrings) {
      const at = pending.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.#stopped = true;
      this.#pending = '';
      return { text: pending.slice(0, first), stopped: true };
    }
    const held = this.#heldBackLength(pending);
    this.#pending = pending.slice(pending.length - held);
    return { text: pending.slice(0, pending.length - held), stopped: false };
  }

  /** Releases the held-back text at the end of generation (no stop string can complete any more). */
  flush(): string {
    const rest = this.#stopped ? '' : this.#pending;
    this.#pending = '';
    return rest;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of a stop string. */
  #heldBackLength(text: string): number {
    let longest = 0;
    for (const stop of this.stopStrings) {
      const limit = Math.min(stop.length - 1, text.length);
      for (let length = limit; length > longest; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
