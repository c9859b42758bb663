/**
 * The time a request runs on: real time, or real time shifted by its issuer's clock offset
 * (`PUT <issuer>/_testbed/clock`, src/control/clock.ts). oidc-provider reads the time through
 * `Date.now()` and jose through `new Date()`, anywhere below a request, so the offset travels with
 * the request in an AsyncLocalStorage and a process-wide wrapper of `Date` applies it: `Date.now()`,
 * `new Date()` and `Date()` read the shifted time inside `runWithOffset`, real time outside it, and
 * everything else (`new Date(value)`, `Date.parse`, `Date.UTC`, `instanceof Date`, subclasses,
 * `Date.prototype`) is the untouched Date.
 *
 * The wrapper is installed the first time an offset other than 0 is run, so a process that never
 * shifts a clock runs on the untouched Date. That one switch is module state by nature: `Date` is
 * one per realm.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const RealDate = globalThis.Date;
const realDateNow = RealDate.now;
const offsets = new AsyncLocalStorage<number>();
let installed = false;

/** Real time, epoch ms, whatever clock the calling request runs on (for durations kept against real time: TTLs, sweeps). */
export function realNow(): number {
  return realDateNow();
}

/** The offset the calling code runs on, ms (0 outside a shifted request). */
export function currentOffset(): number {
  return offsets.getStore() ?? 0;
}

/**
 * Runs `fn` (and everything it starts: promises, timers, callbacks) with the time shifted by `ms`;
 * `0` runs it on real time even inside a shifted request.
 */
export function runWithOffset<T>(ms: number, fn: () => T): T {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`a clock offset is a whole number of milliseconds, got ${ms}`);
  if (ms !== 0 && !installed) installShiftedDate();
  return installed ? offsets.run(ms, fn) : fn();
}

/** Whether `Date` is the wrapper (it is once any offset other than 0 has run). */
export function shiftedDateInstalled(): boolean {
  return installed;
}

function shiftedNow(): number {
  return realDateNow() + (offsets.getStore() ?? 0);
}

function installShiftedDate(): void {
  const now = function now(): number {
    return shiftedNow();
  };
  const ShiftedDate: DateConstructor = new Proxy(RealDate, {
    // `new Date()` is the current time; with any argument it is the time given (ECMA-262 §21.4.2.1).
    construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [shiftedNow()] : args, newTarget),
    // `Date(…)` called as a function is the current time as a string, whatever the arguments.
    apply: () => new RealDate(shiftedNow()).toString(),
    get: (target, property) => (property === 'now' ? now : Reflect.get(target, property)),
  });
  // Every date's `constructor` is the global `Date` again (`new Date().constructor === Date`).
  Object.defineProperty(RealDate.prototype, 'constructor', { value: ShiftedDate, writable: true, configurable: true, enumerable: false });
  globalThis.Date = ShiftedDate;
  installed = true;
}
