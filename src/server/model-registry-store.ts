/**
 * The model registry's history on disk: `<dataDir>/model-registry.json`, rewritten whole on every change through a
 * temporary file, fsync and rename, so a crash leaves the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModelRegistryError } from '../errors';

export const registryFileName = 'model-registry.json';
const registryFormat = 1;

const versionRefSchema = z.strictObject({
  version: z.string().min(1),
  directory: z.string().min(1),
  activatedAt: z.number(),
});

const historyEntrySchema = z.strictObject({
  action: z.enum(['load', 'update', 'rollback', 'update-failed', 'rollback-failed']),
  version: z.string().optional(),
  directory: z.string().optional(),
  at: z.number(),
  error: z.string().optional(),
});

const storedModelSchema = z.strictObject({
  active: versionRefSchema,
  previous: versionRefSchema.optional(),
  history: z.array(historyEntrySchema),
});

const storedRegistrySchema = z.strictObject({
  format: z.literal(registryFormat),
  models: z.record(z.string(), storedModelSchema),
});

export type StoredVersionRef = z.infer<typeof versionRefSchema>;
export type ModelHistoryEntry = z.infer<typeof historyEntrySchema>;
export type StoredModel = z.infer<typeof storedModelSchema>;
export type StoredRegistry = z.infer<typeof storedRegistrySchema>;

export class ModelRegistryStore {
  readonly file: string;

  constructor(readonly dataDir: string) {
    this.file = path.join(path.resolve(dataDir), registryFileName);
  }

  /** The stored registry, or an empty one when the file does not exist yet. */
  read(): StoredRegistry {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { format: registryFormat, models: {} };
      throw new ModelRegistryError(`Cannot read the model registry ${this.file}: ${(cause as Error).message}. Check the data directory's permissions.`, {
        cause,
        details: { file: this.file },
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ModelRegistryError(`The model registry ${this.file} is not valid JSON; restore it from a backup or delete it to start with the configured models.`, {
        cause,
        details: { file: this.file },
      });
    }
    const result = storedRegistrySchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ModelRegistryError(
        `The model registry ${this.file} has an unexpected shape at ${issue.path.join('.') || '(root)'}: ${issue.message}. It was edited by hand or written by another version.`,
        { details: { file: this.file, field: issue.path.join('.') } },
      );
    }
    return result.data;
  }

  /** Replaces the stored registry atomically and durably. */
  write(registry: StoredRegistry): void {
    const directory = path.dirname(this.file);
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(directory, { recursive: true });
      const fd = openSync(temporary, 'w');
      try {
        writeSync(fd, `${JSON.stringify(registry, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.file);
      const directoryFd = openSync(directory, 'r');
      try {
        fsyncSync(directoryFd);
      } finally {
        closeSync(directoryFd);
      }
    } catch (cause) {
      throw new ModelRegistryError(`Cannot write the model registry ${this.file}: ${(cause as Error).message}. Check that the data directory is writable.`, {
        cause,
        details: { file: this.file },
      });
    }
  }
}
