import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathOutsideSandboxError } from '../../src/errors';
import { FileSandbox } from '../../src/tools/file-sandbox';
import { fileTools } from '../../src/tools/file-tools';
import { ToolRegistry } from '../../src/tools/tool-registry';

/**
 * Layout, all under one temp dir (its real path, so /tmp symlinks on some systems do not matter):
 *   data/            the root          data2/secret.txt    sibling prefix      outside/secret.txt
 *   data/file.txt, data/sub/nested.txt, data/..dots.txt
 *   data/link-inside -> sub            data/link-out -> ../outside          data/link-file -> ../outside/secret.txt
 *   data/link-etc -> /etc              data/sub/link-up -> ../../outside    data/chain1 -> chain2 -> ../outside
 *   data/link-sibling -> ../data2      data/link-parent -> ..               data/dangling -> ../outside/missing.txt
 *   data/loop1 <-> data/loop2          data-link -> data (a root given through a symlink)
 */
let base: string;
let root: string;
let sandbox: FileSandbox;
let writable: FileSandbox;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'autoglm-sandbox-')));
  root = join(base, 'data');
  for (const dir of ['data/sub', 'data2', 'outside']) mkdirSync(join(base, dir), { recursive: true });
  writeFileSync(join(root, 'file.txt'), 'inside');
  writeFileSync(join(root, 'sub/nested.txt'), 'nested');
  writeFileSync(join(root, '..dots.txt'), 'dots');
  writeFileSync(join(base, 'data2/secret.txt'), 'SIBLING SECRET');
  writeFileSync(join(base, 'outside/secret.txt'), 'OUTSIDE SECRET');
  symlinkSync('sub', join(root, 'link-inside'));
  symlinkSync('../outside', join(root, 'link-out'));
  symlinkSync('../outside/secret.txt', join(root, 'link-file'));
  symlinkSync('/etc', join(root, 'link-etc'));
  symlinkSync('../../outside', join(root, 'sub/link-up'));
  symlinkSync('chain2', join(root, 'chain1'));
  symlinkSync('../outside', join(root, 'chain2'));
  symlinkSync('../data2', join(root, 'link-sibling'));
  symlinkSync('..', join(root, 'link-parent'));
  symlinkSync('../outside/missing.txt', join(root, 'dangling'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('data', join(base, 'data-link'));
  sandbox = new FileSandbox({ roots: [root] });
  writable = new FileSandbox({ roots: [root], allowWrites: true });
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

type Hostile = { path: () => string; write?: boolean };

const hostile: Record<string, Hostile> = {
  'absolute path outside': { path: () => '/etc/passwd' },
  'filesystem root': { path: () => '/' },
  'double-slash absolute': { path: () => '//etc/passwd' },
  'the temp parent': { path: () => base },
  'sibling prefix file': { path: () => join(base, 'data2/secret.txt') },
  'sibling prefix folder': { path: () => join(base, 'data2') },
  'sibling prefix with trailing slash': { path: () => `${join(base, 'data2')}/` },
  'relative .. to the sibling': { path: () => '../data2/secret.txt' },
  'relative .. outside': { path: () => '../outside/secret.txt' },
  'absolute with .. outside': { path: () => `${root}/../outside/secret.txt` },
  'absolute with .. to the sibling': { path: () => `${root}/../data2/secret.txt` },
  'nested .. escape': { path: () => 'sub/../../outside/secret.txt' },
  'deep .. escape': { path: () => './../../../../../../../../etc/passwd' },
  'many .. to root': { path: () => `sub/${'../'.repeat(40)}etc/passwd` },
  'symlinked folder pointing out': { path: () => 'link-out/secret.txt' },
  'symlinked file pointing out': { path: () => 'link-file' },
  'symlink to /etc': { path: () => 'link-etc/passwd' },
  'relative symlink two levels up': { path: () => 'sub/link-up/secret.txt' },
  'chain of symlinks': { path: () => 'chain1/secret.txt' },
  'symlink to the sibling': { path: () => 'link-sibling/secret.txt' },
  'symlink to the parent': { path: () => 'link-parent/outside/secret.txt' },
  'symlink to the parent itself': { path: () => 'link-parent' },
  'symlink then .. escaping': { path: () => 'link-out/../../outside/secret.txt' },
  'dangling symlink read': { path: () => 'dangling' },
  'symlink loop': { path: () => 'loop1/x' },
  'NUL byte': { path: () => 'file.txt\0.png' },
  'NUL byte with ..': { path: () => 'sub\0/../../outside/secret.txt' },
  'empty path': { path: () => '' },
  '/proc self root': { path: () => '/proc/self/root/etc/passwd' },
  '/proc self cwd': { path: () => '/proc/self/cwd/package.json' },
  'write: new file under a symlinked folder': { path: () => 'link-out/new.txt', write: true },
  'write: nested new folder under a symlinked folder': { path: () => 'link-out/deeper/new.txt', write: true },
  'write: through a dangling symlink': { path: () => 'dangling', write: true },
  'write: over a symlinked file': { path: () => 'link-file', write: true },
  'write: relative .. outside': { path: () => '../outside/new.txt', write: true },
  'write: new file in the sibling': { path: () => join(base, 'data2/new.txt'), write: true },
  'write: under the chain of symlinks': { path: () => 'chain1/new.txt', write: true },
  'write: under the symlink to the parent': { path: () => 'link-parent/outside/new.txt', write: true },
};

describe('FileSandbox hostile corpus', () => {
  it(`refuses 100% of ${Object.keys(hostile).length} hostile paths with PathOutsideSandboxError`, async () => {
    const refused: string[] = [];
    const leaked: string[] = [];
    for (const [name, { path, write }] of Object.entries(hostile)) {
      try {
        if (write) await writable.writeFile(path(), 'PWNED');
        else await sandbox.readFile(path());
        leaked.push(name);
      } catch (error) {
        if (error instanceof PathOutsideSandboxError) refused.push(name);
        else leaked.push(`${name} (${(error as Error).message})`);
      }
    }
    console.info(`sandbox corpus: ${refused.length}/${Object.keys(hostile).length} hostile paths refused`);
    expect(leaked).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(30);
    expect(readFileSync(join(base, 'outside/secret.txt'), 'utf8')).toBe('OUTSIDE SECRET');
    for (const file of ['outside/new.txt', 'outside/deeper/new.txt', 'outside/missing.txt', 'data2/new.txt']) {
      expect(existsSync(join(base, file))).toBe(false);
    }
  });

  it('resolves .. lexically, so .. after a symlink pointing out never reaches outside', async () => {
    // Physically link-out/.. is the temp dir, so this would be outside/secret.txt; lexically it is data/outside/...
    await expect(sandbox.resolve('link-out/../outside/secret.txt')).resolves.toBe(join(root, 'outside/secret.txt'));
    await expect(sandbox.readFile('link-out/../outside/secret.txt')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('names the path and the roots in the error', async () => {
    const error = (await sandbox.resolve(join(base, 'data2/secret.txt')).catch((caught: unknown) => caught)) as PathOutsideSandboxError;
    expect(error).toBeInstanceOf(PathOutsideSandboxError);
    expect(error.message).toContain(join(base, 'data2/secret.txt'));
    expect(error.message).toContain(root);
    expect(error.details).toMatchObject({ path: join(base, 'data2/secret.txt'), roots: [root] });
  });
});

describe('FileSandbox allowed paths', () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  it('reads files inside the root by relative, absolute, normalised and symlinked-inside paths', async () => {
    expect(decode(await sandbox.readFile('file.txt'))).toBe('inside');
    expect(decode(await sandbox.readFile(join(root, 'file.txt')))).toBe('inside');
    expect(decode(await sandbox.readFile('./sub/../file.txt'))).toBe('inside');
    expect(decode(await sandbox.readFile('sub/./nested.txt'))).toBe('nested');
    expect(decode(await sandbox.readFile('link-inside/nested.txt'))).toBe('nested');
    expect(decode(await sandbox.readFile('..dots.txt'))).toBe('dots');
    expect(await sandbox.resolve('.')).toBe(root);
    expect(await sandbox.resolve('link-inside')).toBe(join(root, 'sub'));
  });

  it('reads at most maxBytes', async () => {
    expect(decode(await sandbox.readFile('file.txt', { maxBytes: 3 }))).toBe('ins');
  });

  it('accepts a root given through a symlink, and several roots', async () => {
    const viaLink = new FileSandbox({ roots: [join(base, 'data-link')] });
    expect(decode(await viaLink.readFile('file.txt'))).toBe('inside');
    expect(decode(await viaLink.readFile(join(base, 'data-link/sub/nested.txt')))).toBe('nested');
    const two = new FileSandbox({ roots: [root, join(base, 'data2')] });
    expect(decode(await two.readFile(join(base, 'data2/secret.txt')))).toBe('SIBLING SECRET');
    await expect(two.readFile('../outside/secret.txt')).rejects.toBeInstanceOf(PathOutsideSandboxError);
  });

  it('writes new files and folders inside the root only when writes are allowed', async () => {
    await writable.writeFile('out/new.txt', 'hello');
    expect(readFileSync(join(root, 'out/new.txt'), 'utf8')).toBe('hello');
    await writable.writeFile('link-inside/through-link.txt', 'ok');
    expect(readFileSync(join(root, 'sub/through-link.txt'), 'utf8')).toBe('ok');
    await expect(sandbox.writeFile('readonly.txt', 'no')).rejects.toThrow(/read-only/);
    expect(existsSync(join(root, 'readonly.txt'))).toBe(false);
  });

  it('lists a folder', async () => {
    const entries = await sandbox.list('sub');
    expect(entries.find((entry) => entry.name === 'nested.txt')).toEqual({ name: 'nested.txt', type: 'file' });
    expect(entries.find((entry) => entry.name === 'link-up')).toEqual({ name: 'link-up', type: 'symlink' });
  });

  it('reports a missing root clearly', async () => {
    const missing = new FileSandbox({ roots: [join(base, 'nope')] });
    await expect(missing.readFile('x')).rejects.toThrow(/cannot be used/);
  });
});

describe('file tools', () => {
  it('read, list and write through the registry, refusing writes unless allowed', async () => {
    const registry = new ToolRegistry(fileTools, { roots: [root] });
    expect(await registry.call('files.read', { path: 'file.txt' })).toEqual({
      ok: true,
      value: { path: 'file.txt', text: 'inside', bytes: 6, truncated: false },
    });
    expect(await registry.call('files.read', { path: 'file.txt', maxBytes: 2 })).toMatchObject({ ok: true, value: { text: 'in', truncated: true } });
    const listed = await registry.call('files.list', {});
    expect(listed.ok && (listed.value as any).entries.some((entry: any) => entry.name === 'file.txt')).toBe(true);
    expect(await registry.call('files.read', { path: '../outside/secret.txt' })).toMatchObject({
      ok: false,
      error: { code: 'PATH_OUTSIDE_SANDBOX' },
    });
    const refused = await registry.call('files.write', { path: 'tool.txt', text: 'x' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'PATH_OUTSIDE_SANDBOX', message: expect.stringMatching(/allowWrites/) } });
    const withWrites = new ToolRegistry(fileTools, { roots: [root], allowWrites: true });
    expect(await withWrites.call('files.write', { path: 'tool.txt', text: 'héllo' })).toEqual({ ok: true, value: { path: 'tool.txt', bytes: 6 } });
    expect(readFileSync(join(root, 'tool.txt'), 'utf8')).toBe('héllo');
  });

  it('keeps a multi-byte character cut by maxBytes out of the text, and refuses binary files', async () => {
    writeFileSync(join(root, 'utf8.txt'), 'aé');
    const registry = new ToolRegistry(fileTools, { roots: [root] });
    expect(await registry.call('files.read', { path: 'utf8.txt', maxBytes: 2 })).toMatchObject({ ok: true, value: { text: 'a', truncated: true } });
    writeFileSync(join(root, 'blob.bin'), new Uint8Array([1, 0, 2]));
    expect(await registry.call('files.read', { path: 'blob.bin' })).toMatchObject({ ok: false, error: { code: 'TOOL_EXECUTION' } });
  });
});
