/**
 * The durable per-run journal: one JSON object per line, appended and fsync'd (fdatasync). Records written while a
 * sync is in flight share the next one (group commit), and `append` resolves only once its record is on disk, so a
 * step's end is durable before any dependent starts. Step starts are written at once but ride on the next
 * sync (`sync: false`): a start lost to a power cut only hides that the step was in flight, and it runs again
 * anyway. A crash can leave a torn last line; reading drops it (and cuts it off before appending again), because a
 * record that never reached disk whole never happened.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../errors';
import type { PendingToolApproval, ToolApprovalDecision } from '../agent/tool-approval';
import { syncDirectory } from '../sync-directory';
import type { StepErrorValue, StepKvUsage, StepStatus } from './workflow-types';
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
      /** The model version the run started on (WorkflowRunOptions.modelVersion). */
      modelVersion?: string;
    }
  | { type: 'run-resume'; at: number; modelVersion?: string }
  | { type: 'step-start'; stepId: string; attempt: number; at: number }
  | { type: 'step-retry'; stepId: string; attempt: number; error: StepErrorValue; delayMs: number; at: number }
  | {
      type: 'step-end';
      stepId: string;
      status: Exclude<StepStatus, 'pending' | 'running' | 'cancelled' | 'suspended'>;
      attempts: number;
      output?: unknown;
      error?: StepErrorValue;
      startedAt?: number;
      endedAt: number;
      kv?: StepKvUsage;
    }
  /** The step's agent waits for a person: the pending calls and the state it continues from. */
  | { type: 'step-suspend'; stepId: string; attempt: number; pending: PendingToolApproval[]; state: unknown; at: number }
  /** The decisions given on resume for a suspended step (the audit: what, why, who, when). */
  | { type: 'step-decisions'; stepId: string; decisions: ToolApprovalDecision[]; at: number }
  | { type: 'run-end'; status: 'succeeded' | 'failed' | 'cancelled' | 'suspended'; outputs: Record<string, unknown>; at: number };

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

/**
 * One journal line: the record's JSON with a checksum of that JSON appended as its last field (`"sum"`), so that
 * an edited record is refused on resume instead of silently replayed.
 */
function journalLine(record: JournalRecord): Buffer {
  const body = JSON.stringify(record);
  return Buffer.from(`${body.slice(0, -1)},"sum":"${checksum(body)}"}\n`);
}

function checksum(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

const sumField = /,"sum":"([0-9a-f]{16})"\}$/;

/** Whether a journal line carries a checksum, and whether it matches. */
function verifyLine(text: string): 'none' | 'ok' | 'bad' {
  const match = sumField.exec(text);
  if (match === null) return 'none';
  return checksum(`${text.slice(0, match.index)}}`) === match[1] ? 'ok' : 'bad';
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
  let checksummed = false;
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
    const verified = verifyLine(text);
    // Journals of earlier versions have no checksums; once the header has one, every record must.
    if (verified === 'bad' || (verified === 'none' && records.length > 0 && checksummed)) {
      throw new CheckpointError(
        `Journal ${path} record ${records.length + 1} (byte ${offset}) ${verified === 'bad' ? 'does not match its checksum' : 'has no checksum'}: the journal was edited after it was written; it cannot be resumed. Start a new run.`,
        { details: { runId, path, offset } },
      );
    }
    if (records.length === 0) checksummed = verified === 'ok';
    delete (record as { sum?: unknown }).sum;
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
  readonly #fd: number;
  /** Records already written whose appenders wait for a sync that started after them. */
  #waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #syncing: Promise<void> | undefined;
  #failure: unknown;

  private constructor(fd: number, readonly path: string) {
    this.#fd = fd;
  }

  /** Creates the journal of a new run and writes its header durably; refuses an existing runId. */
  static async create(checkpointDir: string, header: RunHeader): Promise<RunJournal> {
    const path = journalPath(checkpointDir, header.runId);
    const exists = (cause: unknown) =>
      new CheckpointError(
        `Run "${header.runId}" already has a journal at ${path}; continue it with Workflow.resume("${header.runId}", { checkpointDir }) or choose another runId.`,
        { cause, details: { runId: header.runId, path } },
      );
    if (existsSync(path)) throw exists(undefined);
    // The header is written and synced under a temporary name, then linked into place (link refuses an existing
    // name atomically): a crash before the header is durable leaves no journal, so the run id stays free.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      mkdirSync(checkpointDir, { recursive: true });
      fd = openSync(temporary, 'wx');
      const bytes = journalLine(header);
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
      linkSync(temporary, path);
    } catch (cause) {
      if (fd !== undefined) closeSync(fd);
      removeQuietly(temporary);
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST' && (cause as NodeJS.ErrnoException).syscall === 'link') throw exists(cause);
      throw new CheckpointError(`Cannot create the journal ${path}: ${(cause as Error).message}. Check that checkpointDir is writable and has free space.`, {
        cause,
        details: { runId: header.runId, path },
      });
    }
    removeQuietly(temporary);
    syncDirectory(checkpointDir);
    return new RunJournal(fd, path);
  }

  /** Opens an existing journal for appending, cutting off a torn tail first. */
  static async reopen(checkpointDir: string, runId: string, contents: JournalContents): Promise<RunJournal> {
    const path = journalPath(checkpointDir, runId);
    if (contents.tornTail) truncateSync(path, contents.validLength);
    return new RunJournal(openSync(path, 'a'), path);
  }

  /**
   * Appends a record: written at once (synchronously, so file order is append order), then, unless `sync` is
   * false, resolves after an fdatasync that started after the write. One sync serves every record written while
   * the previous one was in flight (group commit).
   */
  append(record: JournalRecord, options: { sync?: boolean } = {}): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    try {
      const bytes = journalLine(record);
      for (let written = 0; written < bytes.length; ) written += writeSync(this.#fd, bytes, written);
    } catch (cause) {
      return Promise.reject(this.#fail(cause));
    }
    if (options.sync === false) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#syncing ??= this.#syncLoop();
    });
  }

  async #syncLoop(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        // fdatasync: an append changes the size, which datasync does flush; mtime alone is not worth a full fsync.
        await new Promise<void>((resolve, reject) => fdatasync(this.#fd, (error) => (error ? reject(error) : resolve())));
        for (const entry of batch) entry.resolve();
      } catch (cause) {
        const failure = this.#fail(cause);
        for (const entry of [...batch, ...this.#waiting]) entry.reject(failure);
        this.#waiting = [];
      }
    }
    this.#syncing = undefined;
  }

  #fail(cause: unknown): unknown {
    this.#failure ??= new CheckpointError(`Cannot write the journal ${this.path}: ${(cause as Error).message}`, { cause, details: { path: this.path } });
    return this.#failure;
  }

  /**
   * Where an agent step keeps its model's KV snapshot: `<runId>.kv/<stepId>.kvs` beside this journal. The file
   * carries its own checksum and model fingerprint; a missing or refused one only means a cold start.
   */
  kvSnapshotFile(stepId: string): string {
    return join(`${this.path.slice(0, -'.jsonl'.length)}.kv`, `${stepId}.kvs`);
  }

  /** Waits for pending syncs, then closes the file. */
  async close(): Promise<void> {
    await this.#syncing;
    closeSync(this.#fd);
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Nothing to remove where the folder itself is unusable.
  }
}
