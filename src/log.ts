import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export type LogLevel = LevelWithSilent;

/** JSON lines on stdout (pino); `redact` is a second line of defence — nothing logs secrets anyway. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.id_token', '*.authorization'], censor: '[redacted]' },
  });
}
