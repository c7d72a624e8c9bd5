import { closeSync, fsyncSync, openSync } from 'node:fs';

/** fsync a directory so a file just created or renamed in it survives a power loss (not possible on every platform). */
export function syncDirectory(directory: string): void {
  try {
    const fd = openSync(directory, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open directories; the file's own fsync still applies.
  }
}
