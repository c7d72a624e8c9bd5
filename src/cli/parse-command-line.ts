/**
 * node:util parseArgs with its errors turned into UsageError (exit code 2) and a `--help` check.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors';

type Options = NonNullable<ParseArgsConfig['options']>;

const help = { help: { type: 'boolean', short: 'h' } } as const;

export function parseCommandLine<T extends Options>(
  command: string,
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T & typeof help; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options: { ...options, ...help }, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command}: ${message}. Run \`autoglm ${command} --help\` for the options.`, { cause: error });
  }
}

/** `--sequences N` as GlmModel.load options: `{ sequences: N }`, or nothing when the flag is absent. */
export function sequencesOption(command: string, value: string | undefined): { sequences?: number } {
  const sequences = integerOption(command, 'sequences', value);
  return sequences === undefined ? {} : { sequences };
}

/** A positive integer option, or undefined when absent. */
export function integerOption(command: string, name: string, value: string | undefined, minimum = 1): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) {
    throw new UsageError(`${command}: --${name} must be an integer >= ${minimum}, got "${value}".`);
  }
  return number;
}
