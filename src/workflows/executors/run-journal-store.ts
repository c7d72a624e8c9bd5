/**
 * Where a run's journal lives when it is not a file in `checkpointDir`: the BullMQ executor keeps it in Redis, so
 * that any machine can resume a run whose coordinator died. Same records and guarantees as {@link RunJournal}.
 */
import type { JournalRecord, RunHeader } from '../run-journal';

export interface RunJournalWriter {
  /** Appends a record; unless `sync` is false, resolves once it is durable. Records keep their append order. */
  append(record: JournalRecord, options?: { sync?: boolean }): Promise<void>;
  close(): Promise<void>;
  /** Where an agent step keeps its KV snapshot (file journals only: the snapshot is a file beside the journal). */
  kvSnapshotFile?(stepId: string): string;
}

export interface RunJournalStore {
  /** Where journals are kept, for messages. */
  readonly description: string;
  /** Writes a new run's header; refuses (CheckpointError) a run id that already has a journal. */
  create(header: RunHeader): Promise<RunJournalWriter>;
  /** A run's records, header first; CheckpointError when there is none. */
  read(runId: string): Promise<{ header: RunHeader; records: JournalRecord[] }>;
  /** Continues appending to an existing journal. */
  reopen(runId: string): Promise<RunJournalWriter>;
}
