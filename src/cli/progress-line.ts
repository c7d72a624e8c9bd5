/**
 * A one-line progress display on stderr (`\r` redraws), shown only on a TTY and never with --json, so logs and
 * piped output stay clean.
 */
import type { Writable } from 'node:stream';

export interface ProgressLineOptions {
  stream: Writable;
  /** Show nothing. Defaults to true when the stream is not a TTY. */
  disabled?: boolean;
}

const barWidth = 24;

export class ProgressLine {
  readonly enabled: boolean;
  readonly #stream: Writable;
  #shown = false;
  #lastDraw = 0;

  constructor(options: ProgressLineOptions) {
    this.#stream = options.stream;
    this.enabled = !(options.disabled ?? false) && (options.stream as { isTTY?: boolean }).isTTY === true;
  }

  /** A bar for `done` of `total`, then the label. Redraws at most every 50 ms unless `force`. */
  bar(done: number, total: number, label: string, force = false): void {
    const filled = total > 0 ? Math.min(barWidth, Math.round((done / total) * barWidth)) : 0;
    this.text(`[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${done}/${total} ${label}`, force);
  }

  text(line: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 50) return;
    this.#lastDraw = now;
    const columns = (this.#stream as { columns?: number }).columns || 100;
    this.#stream.write(`\r\x1b[K${line.slice(0, Math.max(10, columns - 1))}`);
    this.#shown = true;
  }

  /** Clears the line (call before printing anything else). */
  clear(): void {
    if (this.enabled && this.#shown) this.#stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
