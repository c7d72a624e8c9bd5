import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileSandbox } from '../../src/tools/file-sandbox';

// Issue 18 item 12: files written through the sandbox (files.write, report writing) are on disk before the write
// returns, so a step journaled as done after them never leaves an empty or stale file behind a crash.
describe('FileSandbox.writeFile durability', () => {
  const root = mkdtempSync(join(tmpdir(), 'autoglm-durable-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fsyncs the written file before it returns', async () => {
    const probe = await open(join(root, 'probe'), 'w');
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const sync = vi.spyOn(fileHandlePrototype, 'sync');
    try {
      const sandbox = new FileSandbox({ roots: [root], allowWrites: true });
      await sandbox.writeFile('out/report.json', '{"ok":true}');
      expect(sync).toHaveBeenCalledTimes(1);
      expect(readFileSync(join(root, 'out', 'report.json'), 'utf8')).toBe('{"ok":true}');
    } finally {
      sync.mockRestore();
    }
  });
});
