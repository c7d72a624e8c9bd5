/**
 * Issue 18 items 2 and 9: hard links, FIFOs and other non-regular files inside a root, and malformed sandbox options.
 * A FIFO used to block libuv's thread pool forever (the process could never exit); a hard link to an outside file was
 * read and overwritten.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathOutsideSandboxError } from '../../src/errors';
import { FileSandbox } from '../../src/tools/file-sandbox';

let base: string;
let root: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'autoglm-special-')));
  root = join(base, 'root');
  mkdirSync(join(root, 'folder'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside/secret.txt'), 'OUTSIDE SECRET');
  linkSync(join(base, 'outside/secret.txt'), join(root, 'hard-link.txt'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Fails the test instead of hanging it when a call blocks (the FIFO case). */
function withinOneSecond<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the call blocked for 1 s')), 1000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('FileSandbox special files', () => {
  it('refuses to write through a hard link (the other name may be outside), leaving the outside file intact', async () => {
    const sandbox = new FileSandbox({ roots: [root], allowWrites: true });
    const error = await sandbox.writeFile('hard-link.txt', 'PWNED').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PathOutsideSandboxError);
    expect((error as Error).message).toMatch(/2 hard links/);
    expect(readFileSync(join(base, 'outside/secret.txt'), 'utf8')).toBe('OUTSIDE SECRET');
  });

  it('refuses to read a hard-linked file unless allowHardLinkedReads is set', async () => {
    await expect(new FileSandbox({ roots: [root] }).readFile('hard-link.txt')).rejects.toThrow(/allowHardLinkedReads/);
    const lenient = new FileSandbox({ roots: [root], allowHardLinkedReads: true });
    expect(new TextDecoder().decode(await lenient.readFile('hard-link.txt'))).toBe('OUTSIDE SECRET');
  });

  it('refuses a FIFO for reading and writing without blocking', async () => {
    const sandbox = new FileSandbox({ roots: [root], allowWrites: true });
    await expect(withinOneSecond(sandbox.readFile('pipe'))).rejects.toThrow(/FIFO/);
    await expect(withinOneSecond(sandbox.writeFile('pipe', 'x'))).rejects.toThrow(/FIFO/);
    await expect(withinOneSecond(sandbox.readFile('pipe'))).rejects.toBeInstanceOf(PathOutsideSandboxError);
  });

  it('refuses a folder or a character device where a file is expected', async () => {
    const sandbox = new FileSandbox({ roots: [root, '/dev'], allowWrites: true });
    await expect(sandbox.readFile('folder')).rejects.toThrow(/a folder, not a regular file/);
    await expect(sandbox.writeFile('folder', 'x')).rejects.toThrow(/a folder, not a regular file/);
    await expect(sandbox.readFile('.')).rejects.toThrow(/names a sandbox root/);
    await expect(withinOneSecond(sandbox.readFile('/dev/zero'))).rejects.toThrow(/device or other special file/);
  });
});

describe('FileSandbox options', () => {
  it.each([
    ['roots as a string', { roots: 'abc' }, /roots must be an array/],
    ['a number root', { roots: [42] }, /roots\[0\] must be a non-empty directory path/],
    ['an unknown option', { root: ['/tmp'] }, /unknown option "root"/],
    ['allowWrites as a string', { allowWrites: 'yes' }, /allowWrites must be true or false/],
    ['options as a string', '/tmp', /options must be an object/],
  ])('throws a typed error for %s', (_, options, message) => {
    const create = () => new FileSandbox(options as never);
    expect(create).toThrow(PathOutsideSandboxError);
    expect(create).toThrow(message);
  });
});
