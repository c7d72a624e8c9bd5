/**
 * Built-in file tools over the registry's sandbox (`ctx.files`): read a text file, list a directory, and write a
 * text file when the registry allows writes.
 */
import { z } from 'zod';
import { ToolExecutionError } from '../errors';
import { defineTool } from './define-tool';
import type { Tool } from './tool';

/** Upper bound of `files.read`'s `maxBytes`, so one call cannot pull a huge file into the context. */
const readLimit = 1024 * 1024;
const listLimit = 1000;

export const readFileTool = defineTool({
  name: 'files.read',
  description:
    'Read a UTF-8 text file inside the allowed folders. Returns its text (cut at maxBytes; truncated tells). ' +
    'For PDF files use pdf.extract instead.',
  input: z.object({
    path: z.string().min(1).describe('File path, relative to the first allowed folder or absolute'),
    maxBytes: z.number().int().positive().max(readLimit).default(64 * 1024).describe('Read at most this many bytes'),
  }),
  output: z.object({ path: z.string(), text: z.string(), bytes: z.number(), truncated: z.boolean() }),
  async execute({ path, maxBytes }, ctx) {
    const bytes = await ctx.files.readFile(path, { maxBytes: maxBytes + 1 });
    const truncated = bytes.length > maxBytes;
    const kept = bytes.subarray(0, maxBytes);
    if (kept.subarray(0, 8192).includes(0)) {
      throw new ToolExecutionError(`File ${path} is binary, not text; files.read reads text files only.`, { details: { path } });
    }
    // stream: true holds back a multi-byte character cut in half by the byte limit instead of garbling it.
    const text = new TextDecoder('utf-8').decode(kept, { stream: truncated });
    return { path, text, bytes: kept.length, truncated };
  },
});

export const listFilesTool = defineTool({
  name: 'files.list',
  description: 'List the files and folders in a folder inside the allowed folders.',
  input: z.object({
    path: z.string().min(1).default('.').describe('Folder path, relative to the first allowed folder or absolute'),
  }),
  output: z.object({
    path: z.string(),
    entries: z.array(z.object({ name: z.string(), type: z.enum(['file', 'directory', 'symlink', 'other']) })),
    truncated: z.boolean(),
  }),
  async execute({ path }, ctx) {
    if (!ctx.files.list) {
      throw new ToolExecutionError('The file access configured for this registry cannot list folders.', { details: { path } });
    }
    const entries = await ctx.files.list(path);
    return { path, entries: entries.slice(0, listLimit), truncated: entries.length > listLimit };
  },
});

export const writeFileTool = defineTool({
  name: 'files.write',
  description: 'Write a UTF-8 text file inside the allowed folders (replacing it if it exists). Only when writes are allowed.',
  input: z.object({
    path: z.string().min(1).describe('File path, relative to the first allowed folder or absolute'),
    text: z.string().describe('The whole new content of the file'),
  }),
  output: z.object({ path: z.string(), bytes: z.number() }),
  // A write the model asks for is a side effect a person approves; a trusted setup turns this off with the
  // registry option `needsApproval: { 'files.write': false }`.
  needsApproval: true,
  async execute({ path, text }, ctx) {
    const data = new TextEncoder().encode(text);
    await ctx.files.writeFile(path, data);
    return { path, bytes: data.length };
  },
});

/**
 * `files.read`, `files.list` and `files.write` (which fails unless the registry was made with `allowWrites`, and
 * which an agent calls only after a person approved the call).
 */
export const fileTools: Tool[] = [readFileTool, listFilesTool, writeFileTool];
