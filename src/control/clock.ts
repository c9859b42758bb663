/**
 * An issuer's clock (issue 20, item 5): real time shifted by an offset a test sets, so that
 * everything the issuer issues and checks (`iat`, `nbf`, `exp`, `auth_time`, code, token, session
 * and interaction expiry, the DPoP proof `iat` window, logout tokens) runs on it while the other
 * issuers of the process keep real time. The offset is the `clock` field of the issuer's control
 * settings, so replicas on one Redis apply it from their next request; each request runs on the
 * offset it read (src/clock.ts carries it down the request).
 *
 * What stays on real time, on purpose: the stores' expiry bookkeeping (a TTL is a duration), the
 * request record's `at` (it orders this process's requests and matches the test runner's clock; the
 * issuer's time is in the recorded tokens' claims), and the `Expires` of the cookies the issuer sets
 * (the user agent measures it on its own clock: translated back, an interaction cookie of an issuer an
 * hour behind still lives its hour instead of being expired on arrival).
 */
import type { Middleware } from 'koa';
import { realNow, runWithOffset } from '../clock.ts';
import type { ControlSettings, SettingsSnapshot } from './settings.ts';
import { settingsOf } from './settings.ts';

/** The settings field this concern owns: the offset in whole seconds, absent when 0. */
export const CLOCK_FIELD = 'clock';

/** How far a clock may be set from real time, seconds: a year either way (beyond every lifetime a fixture can give). */
export const MAX_OFFSET_S = 366 * 24 * 3600;

/** An issuer's clock as `GET <issuer>/_testbed/clock` shows it. */
export interface ClockReading {
  /** Seconds the issuer's clock is ahead of real time (negative: behind). */
  offsetS: number;
  /** The issuer's current time. */
  now: Date;
}

/** The offset a snapshot of the settings holds, seconds (0 when none, or when the field is not one this concern wrote). */
export function offsetOf(settings: SettingsSnapshot): number {
  const text = settings[CLOCK_FIELD];
  if (text === undefined || !/^-?\d{1,9}$/.test(text)) return 0;
  const offset = Number(text);
  return Math.abs(offset) <= MAX_OFFSET_S ? offset : 0;
}

/** Why `offset` cannot be an issuer's clock offset, or undefined when it can. */
export function offsetProblem(offset: unknown): string | undefined {
  if (typeof offset !== 'number' || !Number.isInteger(offset)) return 'offset_s must be a whole number of seconds';
  if (Math.abs(offset) > MAX_OFFSET_S) return `offset_s must be between -${MAX_OFFSET_S} and ${MAX_OFFSET_S} (a year either way)`;
  return undefined;
}

export class IssuerClockError extends Error {}

/** `issuer.clock`: the issuer's clock offset, for tests in the same process (the same as `<issuer>/_testbed/clock`). */
export class IssuerClock {
  readonly #settings: ControlSettings;

  constructor(settings: ControlSettings) {
    this.#settings = settings;
  }

  /** The offset and the issuer's time now. */
  async get(): Promise<ClockReading> {
    return readingAt(offsetOf(await this.#settings.current()));
  }

  /**
   * Sets the issuer's clock `offsetS` seconds ahead of real time (negative: behind; 0: real time),
   * from the next request on, on every replica. Throws IssuerClockError for an offset that is not a
   * whole number of seconds within a year.
   */
  async set(offsetS: number): Promise<ClockReading> {
    const problem = offsetProblem(offsetS);
    if (problem) throw new IssuerClockError(problem);
    if (offsetS === 0) await this.#settings.remove([CLOCK_FIELD]);
    else await this.#settings.write({ [CLOCK_FIELD]: String(offsetS) });
    return readingAt(offsetS);
  }

  /** Back to real time (the fixture's clock). */
  async reset(): Promise<void> {
    await this.set(0);
  }
}

/** The reading of a clock `offsetS` seconds off real time. */
export function readingAt(offsetS: number): ClockReading {
  return { offsetS, now: new Date(realNow() + offsetS * 1000) };
}

/**
 * Runs the rest of the request on the issuer's clock, as the request's settings have it; then
 * translates the `Expires` of the cookies it set back to real time.
 */
export function runOnIssuerClock(): Middleware {
  return function runOnIssuerClock(ctx, next) {
    const offsetMs = offsetOf(settingsOf(ctx)) * 1000;
    if (offsetMs === 0) return runWithOffset(0, next);
    return runWithOffset(offsetMs, next).then(() => expireCookiesOnRealTime(ctx.res, offsetMs));
  };
}

const EXPIRES = /;\s*expires=([^;]+)/gi;

function expireCookiesOnRealTime(
  res: { getHeader(name: string): unknown; setHeader(name: string, value: string[]): unknown },
  offsetMs: number,
) {
  const header = res.getHeader('set-cookie');
  if (header === undefined) return;
  const cookies = (Array.isArray(header) ? header : [header]).map(String);
  res.setHeader(
    'set-cookie',
    cookies.map((cookie) =>
      cookie.replace(EXPIRES, (attribute, date: string) => {
        const at = Date.parse(date);
        // The epoch is a deletion ("expired at once"), not a lifetime: left as it is.
        return Number.isNaN(at) || at <= 0 ? attribute : `; expires=${new Date(at - offsetMs).toUTCString()}`;
      }),
    ),
  );
}
