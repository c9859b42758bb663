/**
 * The per-request clock (src/clock.ts): inside `runWithOffset` the current time is shifted, outside
 * it real, and every other use of `Date` behaves exactly as the untouched one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { currentOffset, realNow, runWithOffset, shiftedDateInstalled } from '../src/clock.ts';

const HOUR = 3_600_000;
const Untouched = globalThis.Date;
const untouchedNow = Date.now;

/** `a` is within `slack` ms of `b`. */
const near = (a: number, b: number, slack = 1000) => expect(Math.abs(a - b)).toBeLessThan(slack);

describe('the per-request clock', () => {
  it('leaves Date untouched until an offset other than 0 is run', () => {
    expect(runWithOffset(0, () => Date.now() - untouchedNow())).toBeLessThan(5);
    expect(shiftedDateInstalled()).toBe(false);
    expect(globalThis.Date).toBe(Untouched);
    expect(Date.now).toBe(untouchedNow);
  });

  it('shifts Date.now(), new Date() and Date() inside runWithOffset, and only there', () => {
    // biome-ignore lint/complexity/useDateNow: new Date() itself is under test
    const inside = runWithOffset(HOUR, () => ({ now: Date.now(), date: new Date().getTime(), text: Date(), offset: currentOffset() }));
    expect(shiftedDateInstalled()).toBe(true);
    expect(globalThis.Date).not.toBe(Untouched);
    near(inside.now, realNow() + HOUR);
    near(inside.date, realNow() + HOUR);
    near(new Untouched(inside.text).getTime(), realNow() + HOUR, 2000); // Date() has second precision
    expect(inside.offset).toBe(HOUR);
    near(Date.now(), realNow());
    // biome-ignore lint/complexity/useDateNow: new Date() itself is under test
    near(new Date().getTime(), realNow());
    near(new Untouched(Date()).getTime(), realNow(), 2000);
    expect(currentOffset()).toBe(0);
  });

  it('keeps the offset across awaits, timers and promise chains started inside, and 0 inside a shifted run is real time', async () => {
    const seen = await runWithOffset(-HOUR, async () => {
      await sleep(5);
      const afterTimer = Date.now();
      const inTimeout = await new Promise<number>((resolve) => setTimeout(() => resolve(Date.now()), 1));
      const nestedReal = runWithOffset(0, () => Date.now());
      return { afterTimer, inTimeout, nestedReal };
    });
    near(seen.afterTimer, realNow() - HOUR);
    near(seen.inTimeout, realNow() - HOUR);
    near(seen.nestedReal, realNow());
  });

  it('two concurrent runs see their own offsets', async () => {
    const run = (ms: number) =>
      runWithOffset(ms, async () => {
        await sleep(10);
        return Date.now() - realNow();
      });
    const [ahead, behind] = await Promise.all([run(300_000), run(-300_000)]);
    near(ahead, 300_000, 50);
    near(behind, -300_000, 50);
  });

  it('new Date(x), Date.parse, Date.UTC, instanceof, constructor and subclasses behave as the untouched Date', () => {
    runWithOffset(HOUR, () => {
      expect(new Date(0).getTime()).toBe(0);
      expect(new Date('2020-01-02T03:04:05.000Z').toISOString()).toBe('2020-01-02T03:04:05.000Z');
      expect(new Date(2020, 0, 2).getTime()).toBe(new Untouched(2020, 0, 2).getTime());
      expect(new Date(1_600_000_000_000).getTime()).toBe(1_600_000_000_000);
      expect(Number.isNaN(new Date('not a date').getTime())).toBe(true);
      expect(Number.isNaN(new Date(undefined as unknown as number).getTime())).toBe(true); // an argument, even undefined, is not "now"
      expect(Date.parse('2020-01-02T03:04:05Z')).toBe(1_577_934_245_000);
      expect(Date.UTC(2020, 0, 2, 3, 4, 5)).toBe(1_577_934_245_000);
    });
    const old = new Untouched(5);
    const made = new Date(5);
    expect(old instanceof Date).toBe(true);
    expect(made instanceof Date).toBe(true);
    expect(made instanceof Untouched).toBe(true);
    expect(Object.prototype.toString.call(made)).toBe('[object Date]');
    expect(Date.prototype).toBe(Untouched.prototype);
    expect(Object.getPrototypeOf(made)).toBe(Untouched.prototype);
    expect(made.constructor).toBe(Date);
    expect(Date.prototype.constructor).toBe(Date);
    expect(Date.name).toBe('Date');
    expect(Date.length).toBe(7);
    expect(typeof Date).toBe('function');
    expect(made).toEqual(old);
    expect(JSON.stringify({ made })).toBe('{"made":"1970-01-01T00:00:00.005Z"}');

    class Stamp extends Date {
      label = 'stamp';
    }
    const stamp = runWithOffset(HOUR, () => new Stamp());
    expect(stamp).toBeInstanceOf(Stamp);
    expect(stamp).toBeInstanceOf(Date);
    expect(stamp.label).toBe('stamp');
    near(stamp.getTime(), realNow() + HOUR);
    expect(new Stamp(7).getTime()).toBe(7);
  });

  it('realNow() is real time inside a shifted run', () => {
    const [real, shifted] = runWithOffset(HOUR, () => [realNow(), Date.now()]);
    near(real, untouchedNow());
    near(shifted - real, HOUR, 50);
  });

  it('refuses an offset that is not a whole number of milliseconds', () => {
    for (const bad of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => runWithOffset(bad, () => 1)).toThrow(RangeError);
  });
});
