/**
 * File access confined to configured root directories, free of check-then-open races.
 *
 * A path is first normalised lexically (`..` never climbs through a symlink), then opened one component at a time
 * from an already-open root directory: each step opens `/proc/self/fd/<dir>/<name>` with `O_NOFOLLOW`, which the
 * kernel resolves from the held directory as `openat(2)` does, so swapping a folder for a symlink between two steps
 * cannot redirect the walk. A symlink met on the way is read and its target checked against the roots before the walk
 * restarts there. What was finally opened is verified (`fstat`: a regular file; its kernel path inside a root).
 * Non-regular files (FIFOs, devices, sockets) are opened with `O_NONBLOCK` and refused, so they never block.
 * Files with more than one hard link are refused for writes always, and for reads unless `allowHardLinkedReads`:
 * the sandbox cannot see where the other names of such a file live. Linux only (it needs `/proc/self/fd`).
 */
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
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
  /**
   * With `allowWrites`, the only directories inside which files may be written (an output folder), while `roots`
   * stay readable. Relative paths still resolve against the first of `roots`. Defaults to `roots`.
   */
  writeRoots?: string[];
  /**
   * Read files that have more than one hard link. A hard link inside a root may name a file that also lives outside
   * every root, and nothing tells where its other names are. Writes through such files are always refused.
   * Defaults to false.
   */
  allowHardLinkedReads?: boolean;
}

const knownOptions = new Set(['roots', 'writeRoots', 'allowWrites', 'allowHardLinkedReads']);
const { O_RDONLY, O_WRONLY, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
/** As the kernel's own limit on symlinks followed while resolving one path. */
const maxSymlinks = 40;

type Purpose = 'read' | 'write' | 'list' | 'resolve';

/** A symlink met while walking: its target, relative to the folder holding it (or absolute). */
class Symlink {
  constructor(readonly symlink: string) {}
}

/** Where a walk ended: the open directory holding the last component, and that component (absent for a root). */
interface Walked {
  directory: FileHandle;
  directoryPath: string;
  name: string | undefined;
  /** Components after the deepest existing directory (`resolve` of a path that does not exist yet). */
  missing: string[];
}

export class FileSandbox implements FileAccess {
  readonly roots: readonly string[];
  /** Where writes may land: `writeRoots`, or `roots` when none were given. */
  readonly writeRoots: readonly string[];
  readonly allowWrites: boolean;
  readonly allowHardLinkedReads: boolean;
  #realRoots: Promise<string[]> | undefined;
  #realWriteRoots: Promise<string[]> | undefined;

  constructor(options: FileSandboxOptions = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new PathOutsideSandboxError(`FileSandbox: options must be an object, got ${describe(options)}.`, { details: { field: 'options' } });
    }
    for (const key of Object.keys(options)) {
      if (!knownOptions.has(key)) {
        throw new PathOutsideSandboxError(
          `FileSandbox: unknown option ${JSON.stringify(key)}. Known options: ${[...knownOptions].join(', ')}.`,
          { details: { field: key } },
        );
      }
    }
    const roots = checkRoots(options.roots ?? [], 'roots');
    const writeRoots = options.writeRoots === undefined ? undefined : checkRoots(options.writeRoots, 'writeRoots');
    for (const field of ['allowWrites', 'allowHardLinkedReads'] as const) {
      if (options[field] !== undefined && typeof options[field] !== 'boolean') {
        throw new PathOutsideSandboxError(`FileSandbox: ${field} must be true or false, got ${describe(options[field])}.`, {
          details: { field },
        });
      }
    }
    this.roots = Object.freeze(roots.map((root) => nodePath.resolve(root)));
    this.writeRoots = writeRoots === undefined ? this.roots : Object.freeze(writeRoots.map((root) => nodePath.resolve(root)));
    this.allowWrites = options.allowWrites ?? false;
    this.allowHardLinkedReads = options.allowHardLinkedReads ?? false;
  }

  /**
   * The real, absolute path of `path` if it lies inside a root; throws PathOutsideSandboxError otherwise. The answer
   * is a snapshot: open files through `readFile` / `writeFile`, which do not re-resolve names.
   */
  async resolve(path: string): Promise<string> {
    return this.#walk(path, 'resolve', async ({ directory, name, missing }) => {
      if (name !== undefined) {
        const target = await readlinkOrUndefined(`${procPath(directory)}/${name}`);
        if (target !== undefined) return new Symlink(target);
      }
      const real = await fs.readlink(procPath(directory));
      return nodePath.join(real, ...(name === undefined ? [] : [name]), ...missing);
    });
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<Uint8Array> {
    const handle = await this.#openFile(path, 'read');
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
    const handle = await this.#openFile(path, 'write');
    try {
      // Truncated only now, after fstat proved it a singly-linked regular file inside a root (hence no O_TRUNC).
      await handle.truncate(0);
      await handle.writeFile(data);
      // On disk before the caller moves on: a workflow journals a step as done only after its writes returned, so a
      // crash after the journal record must not find the file empty or stale (issue 18 item 12).
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    // readdir of /proc/self/fd/<n> lists the held directory itself, whatever its name points to by now.
    const entries = await this.#walk(path, 'list', ({ directory }) => fs.readdir(procPath(directory), { withFileTypes: true }));
    return entries
      .map((entry): FileEntry => ({
        name: entry.name,
        type: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'other',
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Opens the file `path` names for reading or writing and proves it a regular file inside a root. */
  async #openFile(path: string, purpose: 'read' | 'write'): Promise<FileHandle> {
    const handle = await this.#walk(path, purpose, async ({ directory, name }) => {
      if (name === undefined) this.#refuse(path, 'it names a sandbox root, which is a folder, not a file');
      const entry = `${procPath(directory)}/${name}`;
      const flags = purpose === 'read' ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
      try {
        return await fs.open(entry, flags, 0o644);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') {
          const target = await readlinkOrUndefined(entry);
          // Undefined: the symlink was replaced again since; the walk starts over.
          return new Symlink(target ?? name);
        }
        // ENXIO: a FIFO opened for writing with no reader; EISDIR: a folder; neither is a regular file.
        if (code === 'ENXIO') this.#refuse(path, 'it is a FIFO or socket, not a regular file');
        if (code === 'EISDIR') this.#refuse(path, 'it is a folder, not a regular file');
        throw error;
      }
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) this.#refuse(path, `it is ${kind(stat)}, not a regular file`);
      if (stat.nlink > 1 && (purpose === 'write' || !this.allowHardLinkedReads)) {
        this.#refuse(
          path,
          `it has ${stat.nlink} hard links, so it may also live outside the roots` +
            (purpose === 'read' ? ' (create the sandbox with allowHardLinkedReads: true to read such files)' : ''),
        );
      }
      const real = await fs.readlink(procPath(handle));
      const allowed = purpose === 'write' ? await this.#writableRoots() : await this.#roots();
      if (!allowed.some((root) => isInside(real, root))) this.#refuse(path, `it was opened at ${real}`, real);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Walks `path` from an open root directory to the directory holding its last component and hands that to
   * `finish`. A symlink met on the way, or reported by `finish` (a target relative to the walked directory), restarts
   * the walk at its target once the target is checked lexically against the roots. For writes, missing folders are
   * created on the way (never through a symlink).
   */
  async #walk<T>(path: string, purpose: Purpose, finish: (walked: Walked) => Promise<T | Symlink>): Promise<T> {
    const readRoots = await this.#roots();
    const roots = purpose === 'write' ? await this.#writableRoots() : readRoots;
    if (typeof path !== 'string' || path.length === 0) this.#refuse(String(path), 'the path is empty or not a string');
    if (path.includes('\0')) this.#refuse(path, 'the path contains a NUL byte');
    if (roots.length === 0) this.#refuse(path, 'no sandbox roots are configured');
    // Relative paths resolve against the first (readable) root, also for writes into an output folder.
    let lexical = nodePath.resolve(readRoots[0] ?? roots[0]!, path);
    for (let symlinks = 0; ; symlinks++) {
      if (symlinks > maxSymlinks) this.#refuse(path, 'it contains a symlink loop');
      const inRoot = this.#locate(lexical, roots, purpose === 'write' ? this.writeRoots : this.roots);
      if (!inRoot) this.#refuse(path, `it resolves to ${lexical}`, lexical);
      const walked = await this.#walkFrom(inRoot.root, inRoot.components, purpose);
      if (walked instanceof Symlink) {
        lexical = walked.symlink;
        continue;
      }
      let outcome: T | Symlink;
      try {
        outcome = await finish(walked);
      } finally {
        await walked.directory.close();
      }
      if (!(outcome instanceof Symlink)) return outcome;
      lexical = nodePath.resolve(walked.directoryPath, outcome.symlink);
    }
  }

  /** One walk from a root; returns the lexical path to restart from when a symlink is met. */
  async #walkFrom(root: string, components: string[], purpose: Purpose): Promise<Walked | Symlink> {
    let directory = await fs.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    let directoryPath = root;
    try {
      const folders = purpose === 'list' ? components.length : components.length - 1;
      for (let index = 0; index < folders; index++) {
        const name = components[index];
        const entry = `${procPath(directory)}/${name}`;
        const rest = components.slice(index + 1);
        let next: FileHandle;
        try {
          next = await fs.open(entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ELOOP' || code === 'ENOTDIR') {
            const target = await readlinkOrUndefined(entry);
            // Not a symlink any more, but a folder or a symlink again: it is being swapped; the walk starts over.
            const now = target === undefined ? await fs.lstat(entry).catch(() => undefined) : undefined;
            const swapped = now !== undefined && (now.isDirectory() || now.isSymbolicLink());
            if (target !== undefined || swapped) {
              await directory.close();
              return new Symlink(nodePath.resolve(directoryPath, target ?? name, ...rest));
            }
          }
          if (code === 'ENOENT' && purpose === 'resolve') return { directory, directoryPath, name: undefined, missing: [name, ...rest] };
          if (code !== 'ENOENT' || purpose !== 'write') throw error;
          // mkdir never follows a symlink in its last component: a racing symlink makes it fail with EEXIST.
          await fs.mkdir(entry).catch((mkdirError: NodeJS.ErrnoException) => {
            if (mkdirError.code !== 'EEXIST') throw mkdirError;
          });
          index--;
          continue;
        }
        await directory.close();
        directory = next;
        directoryPath = nodePath.join(directoryPath, name);
      }
      const name = folders < components.length ? components[folders] : undefined;
      return { directory, directoryPath, name, missing: [] };
    } catch (error) {
      await directory.close().catch(() => undefined);
      throw error;
    }
  }

  /** The real root that lexically holds `lexical` (also through the root as configured), and the components below. */
  #locate(lexical: string, realRoots: string[], givenRoots: readonly string[]): { root: string; components: string[] } | undefined {
    for (const [index, realRoot] of realRoots.entries()) {
      for (const prefix of [realRoot, givenRoots[index]]) {
        if (prefix === undefined) continue;
        if (isInside(lexical, prefix)) {
          return { root: realRoot, components: nodePath.relative(prefix, lexical).split(nodePath.sep).filter(Boolean) };
        }
      }
    }
    return undefined;
  }

  #roots(): Promise<string[]> {
    // A failure is not cached: a root created later becomes usable.
    this.#realRoots ??= realRoots(this.roots).catch((error: unknown) => {
      this.#realRoots = undefined;
      throw error;
    });
    return this.#realRoots;
  }

  #writableRoots(): Promise<string[]> {
    if (this.writeRoots === this.roots) return this.#roots();
    this.#realWriteRoots ??= realRoots(this.writeRoots).catch((error: unknown) => {
      this.#realWriteRoots = undefined;
      throw error;
    });
    return this.#realWriteRoots;
  }

  #refuse(path: string, reason: string, resolved?: string): never {
    const writes = this.writeRoots === this.roots ? '' : ` Writable folders: ${this.writeRoots.length ? this.writeRoots.join(', ') : '(none)'}.`;
    throw new PathOutsideSandboxError(
      `Path ${JSON.stringify(path)} is refused by the file sandbox: ${reason}. ` +
        `Allowed roots: ${this.roots.length ? this.roots.join(', ') : '(none)'}.${writes} Use a path inside one of the roots.`,
      { details: { path, reason, roots: [...this.roots], ...(resolved === undefined ? {} : { resolved }) } },
    );
  }
}

/** The name under which the kernel resolves paths from an open file, as openat(2) does from its dirfd. */
function procPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

async function readlinkOrUndefined(entry: string): Promise<string | undefined> {
  try {
    return await fs.readlink(entry);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'ENOENT') return undefined;
    throw error;
  }
}

function kind(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'a device or other special file';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

function isInside(path: string, root: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(nodePath.sep) ? root : root + nodePath.sep;
  return path.startsWith(prefix);
}

function checkRoots(roots: unknown, field: 'roots' | 'writeRoots'): string[] {
  if (!Array.isArray(roots)) {
    throw new PathOutsideSandboxError(
      `FileSandbox: ${field} must be an array of directory paths, got ${describe(roots)}. Write ${field}: [${JSON.stringify(String(roots))}].`,
      { details: { field } },
    );
  }
  for (const [index, root] of roots.entries()) {
    if (typeof root !== 'string' || root.length === 0 || root.includes('\0')) {
      throw new PathOutsideSandboxError(
        `FileSandbox: ${field}[${index}] must be a non-empty directory path without NUL bytes, got ${JSON.stringify(root)}.`,
        { details: { field: `${field}[${index}]` } },
      );
    }
  }
  return roots as string[];
}

function realRoots(roots: readonly string[]): Promise<string[]> {
  return Promise.all(
    roots.map(async (root) => {
      try {
        return await fs.realpath(root);
      } catch (cause) {
        throw new PathOutsideSandboxError(
          `Sandbox root ${root} cannot be used: ${(cause as Error).message}. Create the directory or fix the roots option.`,
          { cause, details: { root, roots } },
        );
      }
    }),
  );
}
