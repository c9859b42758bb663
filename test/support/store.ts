/**
 * Which store a test suite runs on. `TESTBED_TEST_STORE=redis` (`npm run test:idp:redis`) runs the
 * same suite on Redis at `TESTBED_TEST_REDIS_URL` (default redis://127.0.0.1:6379), each testbed
 * under a throw-away key prefix that is deleted when it stops. (Not `OIDC_TESTBED_*`: the CLI
 * rejects unknown variables with that prefix, and tests spawn the CLI.)
 *
 * Suites call `testbedOptions()` where they start a testbed:
 *   startTestbed(testbedOptions({ fixture }))   →   { port: 0, fixture, redis?: {…} }
 * (without `fixture`: test/fixtures/suite.yaml)
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { TestbedOptions } from '../../src/index.ts';

export type TestStore = 'memory' | 'redis';

export function testStore(): TestStore {
  const value = process.env.TESTBED_TEST_STORE?.trim().toLowerCase() || 'memory';
  if (value !== 'memory' && value !== 'redis') throw new Error(`TESTBED_TEST_STORE must be memory or redis, got "${value}"`);
  return value;
}

export function testRedisUrl(): string {
  return process.env.TESTBED_TEST_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
}

/** A key prefix no other test run uses. */
export function uniquePrefix(label = 'test'): string {
  return `oidc-testbed-${label}:${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** Options for `startTestbed()`: port 0, the selected store, then `overrides`. */
/** The suite's own fixture (a test that names none gets it, not the product's demo fixture). */
export const SUITE_FIXTURE = fileURLToPath(new URL('../fixtures/suite.yaml', import.meta.url));

export function testbedOptions(overrides: TestbedOptions = {}): TestbedOptions {
  const base: TestbedOptions = { port: 0, fixture: SUITE_FIXTURE };
  if (testStore() === 'redis' && overrides.redis === undefined && overrides.store === undefined) {
    base.redis = { url: testRedisUrl(), prefix: uniquePrefix(), purgeOnClose: true };
  }
  return { ...base, ...overrides };
}

/**
 * Whether Redis at `url` answers PING. When it does not and `CI` is set, this throws: on CI the
 * Redis suites must fail, never skip silently.
 */
export async function requireRedis(url = testRedisUrl()): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
    disconnectTimeout: 50,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    if (process.env.CI)
      throw new Error(`Redis at ${url} is unreachable (${(error as Error).message}) and CI is set: the Redis tests must run`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (a throw-away prefix of a test that stops testbeds itself). */
export async function purgePrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const raw = new Redis(url);
  try {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.unlink(...keys);
  } finally {
    raw.disconnect();
  }
}
