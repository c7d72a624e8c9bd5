import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The library's default logger: silent, so importing autoglm never writes to the host's stdout. Pass your own
 * pino logger (or `createLogger({ level })`) through the `logger` options to see what happens.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? 'silent', name: options.name ?? 'autoglm' });
}

let silent: Logger | undefined;

/** A shared silent logger for code paths whose caller gave none. */
export function silentLogger(): Logger {
  silent ??= createLogger();
  return silent;
}
