/**
 * File access confined to configured root directories. Every path is resolved to its real path (symlinks followed)
 * and checked against the real paths of the roots before anything is opened; the checked real path is what gets
 * opened, so a lexically harmless path that physically points elsewhere cannot slip through.
 */
import { constants, promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { PathOutsideSandboxError } from '../errors';
import type { FileAccess, FileEntry, ReadFileOptions } from './tool';

export interface FileSandboxOptions {
  /**
   * Directories inside which files may be read (and written, with `allowWrites`). Relative roots resolve against
   * `process.cwd()`. Relative paths given to the sandbox resolve against the first root. Defaults to none: every
   * access is refused.
   */
  roots?: string[];
  /** Allow `writeFile`. Defaults to false (a read-only sandbox). */
  allowWrites?: boolean;
}

const { O_NOFOLLOW = 0 } = constants;

export class FileSandbox implements FileAccess {
  readonly roots: readonly string[];
  readonly allowWrites: boolean;
  #realRoots: Promise<string[]> | undefined;

  constructor(options: FileSandboxOptions = {}) {
    const roots = options.roots ?? [];
    for (const [index, root] of roots.entries()) {
      if (typeof root !== 'string' || root.length === 0 || root.includes('\0')) {
        throw new PathOutsideSandboxError(
          `FileSandbox: roots[${index}] must be a non-empty directory path without NUL bytes, got ${JSON.stringify(root)}.`,
          { details: { field: `roots[${index}]` } },
        );
      }
    }
    this.roots = Object.freeze(roots.map((root) => nodePath.resolve(root)));
    this.allowWrites = options.allowWrites ?? false;
  }

  /** The real, absolute path of `path` if it lies inside a root; throws PathOutsideSandboxError otherwise. */
  async resolve(path: string): Promise<string> {
    const roots = await this.#roots();
    if (typeof path !== 'string' || path.length === 0) this.#refuse(String(path), 'the path is empty or not a string');
    if (path.includes('\0')) this.#refuse(path, 'the path contains a NUL byte');
    if (roots.length === 0) this.#refuse(path, 'no sandbox roots are configured');
    const absolute = nodePath.resolve(roots[0], path);
    const real = await this.#realPath(path, absolute);
    if (!roots.some((root) => isInside(real, root))) this.#refuse(path, `it resolves to ${real}`, real);
    return real;
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<Uint8Array> {
    const real = await this.resolve(path);
    // O_NOFOLLOW: the last component was a real file when checked; refuse it if it became a symlink since.
    const handle = await fs.open(real, constants.O_RDONLY | O_NOFOLLOW);
    try {
      if (options.maxBytes === undefined) return new Uint8Array(await handle.readFile());
      const buffer = new Uint8Array(options.maxBytes);
      let length = 0;
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      return buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  }

  async writeFile(path: string, data: string | Uint8Array): Promise<void> {
    if (!this.allowWrites) {
      this.#refuse(path, 'this sandbox is read-only (create it, or the ToolRegistry, with allowWrites: true)');
    }
    const real = await this.resolve(path);
    await fs.mkdir(nodePath.dirname(real), { recursive: true });
    const handle = await fs.open(real, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    const real = await this.resolve(path);
    const entries = await fs.readdir(real, { withFileTypes: true });
    return entries
      .map((entry): FileEntry => ({
        name: entry.name,
        type: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'other',
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  #roots(): Promise<string[]> {
    this.#realRoots ??= Promise.all(
      this.roots.map(async (root) => {
        try {
          return await fs.realpath(root);
        } catch (cause) {
          throw new PathOutsideSandboxError(
            `Sandbox root ${root} cannot be used: ${(cause as Error).message}. Create the directory or fix the roots option.`,
            { cause, details: { root, roots: this.roots } },
          );
        }
      }),
    );
    return this.#realRoots;
  }

  /**
   * The real path of `absolute`. A path that does not exist yet (a file about to be written) resolves through its
   * deepest existing ancestor, so a new file under a symlinked folder that points out is caught too. Dangling
   * symlinks and loops are refused: where they lead cannot be checked.
   */
  async #realPath(path: string, absolute: string): Promise<string> {
    const missing: string[] = [];
    let current = absolute;
    for (;;) {
      try {
        const real = await fs.realpath(current);
        return missing.length === 0 ? real : nodePath.join(real, ...missing.reverse());
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') this.#refuse(path, 'it contains a symlink loop');
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      }
      const stat = await fs.lstat(current).catch(() => undefined);
      if (stat?.isSymbolicLink()) this.#refuse(path, `${current} is a dangling symlink`);
      const parent = nodePath.dirname(current);
      if (parent === current) this.#refuse(path, 'no part of it exists');
      missing.push(nodePath.basename(current));
      current = parent;
    }
  }

  #refuse(path: string, reason: string, resolved?: string): never {
    throw new PathOutsideSandboxError(
      `Path ${JSON.stringify(path)} is refused by the file sandbox: ${reason}. ` +
        `Allowed roots: ${this.roots.length ? this.roots.join(', ') : '(none)'}. Use a path inside one of the roots.`,
      { details: { path, reason, roots: [...this.roots], ...(resolved === undefined ? {} : { resolved }) } },
    );
  }
}

function isInside(path: string, root: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(nodePath.sep) ? root : root + nodePath.sep;
  return path.startsWith(prefix);
}
