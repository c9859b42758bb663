import { createRequire } from 'node:module';
import type { LevelWithSilent, Logger } from 'pino';

// Loaded on the first logger made (a start): an import of the package does not pay for pino.
const loadPino = () => (createRequire(import.meta.url)('pino') as typeof import('pino')).pino;

export type { Logger };
export type LogLevel = LevelWithSilent;

/** How long a line may wait in the buffer of a request log before it is written. */
const FLUSH_EVERY_MS = 200;

export interface OwnedLogger {
  logger: Logger;
  /** Writes out what is buffered and stops the flush timer. */
  close(): void;
}

/**
 * JSON lines on stdout (pino); `redact` is a second line of defence — nothing logs secrets anyway.
 * Written asynchronously (pino's sonic-boom destination), so a request never waits on the terminal
 * or the pipe. At `info` and below, where every request writes a line, lines gather in a 4 kB
 * buffer (one write for ~30 lines) that is also written every 200 ms, so a quiet log is not held
 * back; pino writes what is left synchronously when the process exits (SIGTERM included: the CLI
 * stops, then exits).
 */
export function createLogger(level: LogLevel = 'info'): OwnedLogger {
  const pino = loadPino();
  const perRequest = pino.levels.values[level] !== undefined && pino.levels.values[level] <= pino.levels.values.info;
  const destination = pino.destination({ dest: 1, sync: false, minLength: perRequest ? 4096 : 0 });
  const logger = pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.id_token', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
  const timer = perRequest ? setInterval(() => destination.flush(), FLUSH_EVERY_MS).unref() : undefined;
  return {
    logger,
    close() {
      if (!timer) return;
      clearInterval(timer);
      destination.flush();
    },
  };
}

/** A logger that writes nothing (a fixture check's issuers). */
export function silentLogger(): Logger {
  return loadPino()({ level: 'silent' });
}
