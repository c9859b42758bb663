/**
 * The bounded cache behind the mock APIs' verified tokens and DPoP replay check: entries expire,
 * and however many keys pass by it never holds more than its bound, giving up expired entries
 * before live ones and the oldest live ones first.
 */
import { describe, expect, it } from '@jest/globals';
import { ExpiringCache } from '../../src/resource-servers/token-guard/expiring-cache.ts';

const NOW = 1_800_000_000_000;

describe('ExpiringCache', () => {
  it('answers an entry until it expires, then says once that it expired and forgets it', () => {
    const cache = new ExpiringCache<string>(10);
    cache.set('token', 'caller', NOW + 1000, NOW);
    expect(cache.get('token', NOW + 999)).toEqual({ value: 'caller', expired: false });
    expect(cache.has('token', NOW + 999)).toBe(true);
    expect(cache.get('token', NOW + 1000)).toEqual({ value: 'caller', expired: true });
    expect(cache.get('token', NOW + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store what has already expired', () => {
    const cache = new ExpiringCache<string>(10);
    cache.set('token', 'caller', NOW, NOW);
    expect(cache.get('token', NOW - 1)).toBeUndefined();
  });

  it('never holds more than its bound, evicting the oldest live entries first', () => {
    const cache = new ExpiringCache<number>(100);
    for (let i = 0; i < 1000; i += 1) {
      cache.set(`key-${i}`, i, NOW + 60_000, NOW);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.has('key-999', NOW)).toBe(true);
    expect(cache.has('key-0', NOW)).toBe(false);
    // What survives is the newest insertions, without gaps.
    const kept = Array.from({ length: 1000 }, (_, i) => i).filter((i) => cache.has(`key-${i}`, NOW));
    expect(kept.length).toBeGreaterThanOrEqual(90);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 1000 - kept.length + i));
  });

  it('gives up expired entries before any live one when full', () => {
    const cache = new ExpiringCache<number>(10);
    for (let i = 0; i < 5; i += 1) cache.set(`live-${i}`, i, NOW + 60_000, NOW);
    for (let i = 0; i < 5; i += 1) cache.set(`short-${i}`, i, NOW + 10, NOW);
    cache.set('new', 0, NOW + 60_000, NOW + 20);
    for (let i = 0; i < 5; i += 1) expect(cache.has(`live-${i}`, NOW + 20)).toBe(true);
    expect(cache.has('new', NOW + 20)).toBe(true);
    expect(cache.size).toBe(6);
  });

  it('with a bound of one, keeps the newest entry', () => {
    const cache = new ExpiringCache<number>(1);
    cache.set('a', 1, NOW + 60_000, NOW);
    cache.set('b', 2, NOW + 60_000, NOW);
    expect(cache.has('a', NOW)).toBe(false);
    expect(cache.get('b', NOW)).toEqual({ value: 2, expired: false });
  });
});
