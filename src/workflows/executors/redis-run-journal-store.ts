/**
 * Run journals as Redis lists (`<prefix>:journal:<runId>`), one JSON record per entry, so a run coordinated by
 * one process can be resumed by another on any machine. Records are appended on one connection, so Redis keeps
 * their order; an append resolves when Redis has it. How durable that is depends on Redis's persistence: with
 * `appendonly yes` and `appendfsync always` it matches the file journal's fsync; with the default `everysec` a
 * Redis crash (not a restart) can lose the last second (docs/scale-out.md).
 */
import type { Redis } from 'ioredis';
import { CheckpointError } from '../../errors';
import { journalFormat, type JournalRecord, type RunHeader } from '../run-journal';
import { journalKey } from './redis-connection';
import type { RunJournalStore, RunJournalWriter } from './run-journal-store';

/** Writes the header only if the run has no journal yet: two coordinators can never start the same run id. */
const createScript = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1`;

class RedisRunJournal implements RunJournalWriter {
  #failure: unknown;

  constructor(
    readonly client: Redis,
    readonly key: string,
  ) {}

  append(record: JournalRecord, options: { sync?: boolean } = {}): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const written = this.client.rpush(this.key, JSON.stringify(record)).then(
      () => undefined,
      (cause: Error) => {
        this.#failure ??= new CheckpointError(`Cannot append to the run journal ${this.key} in Redis: ${cause.message}`, { cause, details: { key: this.key } });
        throw this.#failure;
      },
    );
    if (options.sync === false) {
      written.catch(() => undefined); // remembered in #failure; the next synced append reports it
      return Promise.resolve();
    }
    return written;
  }

  async close(): Promise<void> {
    // The client belongs to the executor; commands already sent are answered in order before any later one.
  }
}

export class RedisRunJournalStore implements RunJournalStore {
  readonly description: string;

  constructor(
    readonly client: Redis,
    readonly prefix: string,
  ) {
    this.description = `Redis (keys ${prefix}:journal:<runId>)`;
  }

  async create(header: RunHeader): Promise<RunJournalWriter> {
    const key = journalKey(this.prefix, header.runId);
    const created = await this.client.eval(createScript, 1, key, JSON.stringify(header));
    if (created !== 1) {
      throw new CheckpointError(
        `Run "${header.runId}" already has a journal in Redis (${key}); continue it with Workflow.resume("${header.runId}", { executor }) (\`autoglm run --redis URL --resume ${header.runId}\`) or choose another run id.`,
        { details: { runId: header.runId, key } },
      );
    }
    return new RedisRunJournal(this.client, key);
  }

  async read(runId: string): Promise<{ header: RunHeader; records: JournalRecord[] }> {
    const key = journalKey(this.prefix, runId);
    const lines = await this.client.lrange(key, 0, -1);
    if (lines.length === 0) {
      throw new CheckpointError(`Run "${runId}" has no journal in Redis (${key}): it was never started with this Redis and prefix, or its keys were deleted.`, {
        details: { runId, key },
      });
    }
    const records = lines.map((line, index) => {
      try {
        return JSON.parse(line) as JournalRecord;
      } catch (cause) {
        throw new CheckpointError(`Run journal ${key} entry ${index + 1} is not JSON; it was not written by autoglm. Start a new run.`, { cause, details: { runId, key, index } });
      }
    });
    const header = records[0];
    if (header?.type !== 'run-header' || header.format !== journalFormat) {
      throw new CheckpointError(`Run journal ${key} does not start with a format-${journalFormat} run header; it cannot be resumed.`, { details: { runId, key } });
    }
    return { header, records };
  }

  async reopen(runId: string): Promise<RunJournalWriter> {
    return new RedisRunJournal(this.client, journalKey(this.prefix, runId));
  }
}
