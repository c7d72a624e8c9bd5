/**
 * The check that runs before an agent's first step: an agent must not answer about a file it cannot read. Without
 * it, a missing input file became "Input file: <path>" in the prompt and the model answered anyway (HTTP 200 in the
 * service, exit 0 in the CLI).
 */
import { constants, promises as fs } from 'node:fs';
import { AgentInputError, PathOutsideSandboxError } from '../errors';
import type { FileAccess } from '../tools/tool';
import type { AgentInput } from './agent-events';
import type { TaskPreset } from './presets/task-preset';

/**
 * Throws AgentInputError when the task needs an input file and none is given, or the given file is missing,
 * unreadable or not a regular file; PathOutsideSandboxError when `files` (the tools' sandbox) refuses it. Without a
 * sandbox (an agent without file tools) the file is opened directly, never blocking on a FIFO.
 */
export async function checkInputFile(input: AgentInput, files: FileAccess | undefined, preset: TaskPreset | undefined): Promise<void> {
  const inputFile = typeof input === 'object' && typeof input.inputFile === 'string' ? input.inputFile : undefined;
  if (inputFile === undefined) {
    if (preset?.requiresInputFile) {
      throw new AgentInputError(
        `AutoAgent.run: the task "${preset.name}" reads an input file; run it with { inputFile: 'path/to/file' }, got ${typeof input === 'string' ? 'a string' : 'an object without inputFile'}.`,
        { details: { field: 'inputFile', task: preset.name } },
      );
    }
    return;
  }
  try {
    if (files !== undefined) await files.readFile(inputFile, { maxBytes: 1 });
    else await readFirstByte(inputFile);
  } catch (cause) {
    if (cause instanceof PathOutsideSandboxError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'it is not readable (permission denied)' : (cause as Error).message;
    throw new AgentInputError(`AutoAgent.run: input file ${inputFile} cannot be read: ${reason}. Pass an existing, readable file.`, {
      cause,
      details: { field: 'inputFile', inputFile, ...(code === undefined ? {} : { errno: code }) },
    });
  }
}

async function readFirstByte(file: string): Promise<void> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('it is not a regular file');
    await handle.read(new Uint8Array(1), 0, 1, 0);
  } finally {
    await handle.close();
  }
}
