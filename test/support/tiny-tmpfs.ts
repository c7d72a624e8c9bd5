/**
 * A real, tiny filesystem for full-disk tests: a 64 KB tmpfs mounted in a fresh temp folder (needs root; where
 * mounting is not permitted, `skipReason` says why and the tests skip).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface TinyTmpfs {
  /** A temp folder (not size-limited) holding the mount point. */
  root: string;
  /** The mounted 64 KB tmpfs. */
  full: string;
  mounted: boolean;
  skipReason: string;
}

/** Mounts before the file's tests and unmounts after; read the fields inside tests. */
export function useTinyTmpfs(prefix: string): TinyTmpfs {
  const state: TinyTmpfs = { root: '', full: '', mounted: false, skipReason: '' };
  beforeAll(async () => {
    state.root = await mkdtemp(path.join(os.tmpdir(), prefix));
    state.full = path.join(state.root, 'full');
    await mkdir(state.full);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state.full], { stdio: 'pipe' });
      state.mounted = true;
    } catch (error) {
      state.skipReason = `cannot mount a 64 KB tmpfs here (${(error as Error).message.split('\n')[0]}); needs root`;
    }
  });
  afterAll(async () => {
    if (state.mounted) execFileSync('umount', [state.full]);
    await rm(state.root, { recursive: true, force: true });
  });
  return state;
}
