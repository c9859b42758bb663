import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export type LogLevel = LevelWithSilent;

/**
 * JSON lines on stdout (pino); `redact` is a second line of defence — nothing logs secrets anyway.
 * Written asynchronously: while one write to stdout is under way the next lines gather and leave
 * together, so a request never waits on the terminal or the pipe, and a quiet log is not delayed.
 * pino writes what is left synchronously when the process exits (SIGTERM included: the CLI stops, then exits).
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.id_token', '*.authorization'], censor: '[redacted]' },
  }, pino.destination({ dest: 1, sync: false }));
}

