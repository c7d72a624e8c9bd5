/**
 * The durable per-run journal: one JSON object per line, appended and fsync'd (fdatasync). Records written in the
 * same moment share one write and one sync (group commit), and `append` resolves only once its record is on disk,
 * so a step's end is durable before any dependent starts. Step starts are written at once but ride on the next
 * sync (`sync: false`): a start lost to a power cut only hides that the step was in flight, and it runs again
 * anyway. A crash can leave a torn last line; reading drops it (and cuts it off before appending again), because a
 * record that never reached disk whole never happened.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors';
import type { StepErrorValue, StepStatus } from './workflow-types';
import type { WorkflowSpec } from './workflow-spec';

export const journalFormat = 1;

export type JournalRecord =
  | {
      type: 'run-header';
      format: number;
      runId: string;
      workflow: string;
      specVersion?: string | number;
      specHash: string;
      spec: WorkflowSpec;
      inputs: Record<string, unknown>;
      at: number;
    }
  | { type: 'run-resume'; at: number }
  | { type: 'step-start'; stepId: string; attempt: number; at: number }
  | { type: 'step-retry'; stepId: string; attempt: number; error: StepErrorValue; delayMs: number; at: number }
  | {
      type: 'step-end';
      stepId: string;
      status: Exclude<StepStatus, 'pending' | 'running' | 'cancelled'>;
      attempts: number;
      output?: unknown;
      error?: StepErrorValue;
      startedAt?: number;
      endedAt: number;
    }
  | { type: 'run-end'; status: 'succeeded' | 'failed' | 'cancelled'; outputs: Record<string, unknown>; at: number };

export type RunHeader = Extract<JournalRecord, { type: 'run-header' }>;

const runIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** SHA-256 of the spec's canonical JSON (sorted keys), nested workflows included. */
export function specHash(spec: WorkflowSpec): string {
  return createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex');
}

export function journalPath(checkpointDir: string, runId: string): string {
  if (!runIdPattern.test(runId)) {
    throw new CheckpointError(
      `Invalid runId "${runId}": use 1-128 letters, digits, ".", "_" or "-" (it names the journal file), starting with a letter or digit.`,
      { details: { runId } },
    );
  }
  return join(checkpointDir, `${runId}.jsonl`);
}

export interface JournalContents {
  header: RunHeader;
  records: JournalRecord[];
  /** Bytes of whole lines; anything after is a torn tail from a crash mid-write. */
  validLength: number;
  tornTail: boolean;
}

/** Reads a run's journal; a torn or unparsable last line is ignored, corruption before it is a CheckpointError. */
export function readJournal(checkpointDir: string, runId: string): JournalContents {
  const path = journalPath(checkpointDir, runId);
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (cause) {
    throw new CheckpointError(`No journal for run "${runId}" in ${checkpointDir} (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}). Check the runId and checkpointDir.`, {
      cause,
      details: { runId, checkpointDir },
    });
  }
  const records: JournalRecord[] = [];
  let offset = 0;
  let tornTail = false;
  while (offset < buffer.length) {
    const newline = buffer.indexOf(0x0a, offset);
    if (newline === -1) {
      tornTail = true; // a line without its newline never finished being written
      break;
    }
    const text = buffer.subarray(offset, newline).toString('utf8');
    let record: JournalRecord;
    try {
      record = JSON.parse(text) as JournalRecord;
      if (typeof record !== 'object' || record === null || typeof record.type !== 'string') throw new Error('not a record');
    } catch (cause) {
      if (newline === buffer.length - 1) {
        tornTail = true;
        break;
      }
      throw new CheckpointError(`Journal ${path} is corrupt at byte ${offset} (record ${records.length + 1}), before its last line; it cannot be resumed.`, {
        cause,
        details: { runId, path, offset },
      });
    }
    records.push(record);
    offset = newline + 1;
  }
  const header = records[0];
  if (header?.type !== 'run-header') {
    throw new CheckpointError(`Journal ${path} has no run header; it was not written by this library or lost its first record.`, { details: { runId, path } });
  }
  if (header.format !== journalFormat) {
    throw new CheckpointError(`Journal ${path} has format ${header.format}; this version reads format ${journalFormat}.`, { details: { runId, path } });
  }
  return { header, records, validLength: offset, tornTail };
}

export class RunJournal {
  readonly #handle: FileHandle;
  #pending: Array<{ line: string; sync: boolean; resolve: () => void; reject: (error: unknown) => void }> = [];
  #flushing: Promise<void> | undefined;
  #failure: unknown;

  private constructor(handle: FileHandle, readonly path: string) {
    this.#handle = handle;
  }

  /** Creates the journal of a new run and writes its header durably; refuses an existing runId. */
  static async create(checkpointDir: string, header: RunHeader): Promise<RunJournal> {
    const path = journalPath(checkpointDir, header.runId);
    let handle: FileHandle;
    try {
      mkdirSync(checkpointDir, { recursive: true });
      handle = await open(path, 'wx');
    } catch (cause) {
      const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
      throw new CheckpointError(
        exists
          ? `Run "${header.runId}" already has a journal at ${path}; continue it with Workflow.resume("${header.runId}", { checkpointDir }) or choose another runId.`
          : `Cannot create the journal ${path}: ${(cause as Error).message}. Check that checkpointDir is writable.`,
        { cause, details: { runId: header.runId, path } },
      );
    }
    syncDirectory(checkpointDir);
    const journal = new RunJournal(handle, path);
    await journal.append(header);
    return journal;
  }

  /** Opens an existing journal for appending, cutting off a torn tail first. */
  static async reopen(checkpointDir: string, runId: string, contents: JournalContents): Promise<RunJournal> {
    const path = journalPath(checkpointDir, runId);
    if (contents.tornTail) truncateSync(path, contents.validLength);
    return new RunJournal(await open(path, 'a'), path);
  }

  /**
   * Appends a record; resolves once it is written and (unless `sync` is false) fsync'd. Records reach the file in
   * the order they were appended, so a synced record makes every earlier one durable too.
   */
  append(record: JournalRecord, options: { sync?: boolean } = {}): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line: `${JSON.stringify(record)}\n`, sync: options.sync ?? true, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#handle.write(batch.length === 1 ? batch[0].line : batch.map((entry) => entry.line).join(''));
        // fdatasync: an append changes the size, which datasync does flush; mtime alone is not worth a full fsync.
        if (batch.some((entry) => entry.sync)) await this.#handle.datasync();
        for (const entry of batch) entry.resolve();
      } catch (cause) {
        this.#failure = new CheckpointError(`Cannot write the journal ${this.path}: ${(cause as Error).message}`, { cause, details: { path: this.path } });
        for (const entry of [...batch, ...this.#pending]) entry.reject(this.#failure);
        this.#pending = [];
      }
    }
    this.#flushing = undefined;
  }

  /** Waits for pending records, then closes the file. */
  async close(): Promise<void> {
    await this.#flushing;
    await this.#handle.close();
  }
}

/** fsync a directory so a newly created file's entry survives a power loss (not possible on every platform). */
function syncDirectory(directory: string): void {
  try {
    const fd = openSync(directory, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open directories; the file's own fsyncs still apply.
  }
}
