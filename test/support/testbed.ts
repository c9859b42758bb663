/**
 * One testbed per test file, started on port 0 in `beforeAll` and stopped in `afterAll`. Every
 * request the testbed answers is collected from its request record (`testbed.requests`), and
 * `afterAll` fails the file if any of them was a 5xx: a client mistake must never be a server error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from '@jest/globals';
import { parse } from 'yaml';
import { type FixtureInput, startTestbed, type Testbed, type TestbedOptions } from '../../src/index.ts';
import { testbedOptions } from './store.ts';

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

export interface RecordedTestbed {
  testbed: Testbed;
  requests: LoggedRequest[];
  stop(): Promise<void>;
}

/** Starts a testbed on port 0 (on the store `TESTBED_TEST_STORE` selects), keeping every request it answers. */
export async function startRecordedTestbed(options: Omit<TestbedOptions, 'port'> = {}): Promise<RecordedTestbed> {
  const requests: LoggedRequest[] = [];
  const testbed = await startTestbed(testbedOptions({ logLevel: 'silent', ...options, port: 0 }));
  const unsubscribe = testbed.requests.subscribe(({ method, path, status }) => requests.push({ method, path, status }));
  return {
    testbed,
    requests,
    stop: async () => {
      unsubscribe();
      await testbed.stop();
    },
  };
}

export function serverErrors(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((request) => request.status >= 500);
}

/**
 * Registers a shared testbed for the enclosing file or `describe`; call the returned function inside
 * tests. Options may be computed in `beforeAll` (e.g. a fixture naming a listener's port).
 */
export function useTestbed(options: TestbedOptions | (() => TestbedOptions | Promise<TestbedOptions>) = {}): () => Testbed {
  let recorded: RecordedTestbed | undefined;
  beforeAll(async () => {
    recorded = await startRecordedTestbed(typeof options === 'function' ? await options() : options);
  });
  afterAll(async () => {
    if (!recorded) return;
    await recorded.stop();
    expect(serverErrors(recorded.requests)).toEqual([]);
  });
  return () => {
    if (!recorded) throw new Error('the testbed is not started (use it inside a test)');
    return recorded.testbed;
  };
}

/** Path of a test fixture under test/fixtures/. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A test fixture as a plain object, for tests that fill in run-time values (ports, keys). */
export function readFixture(name: string): FixtureInput & { clients: Array<Record<string, unknown>> } {
  return parse(readFileSync(fixturePath(name), 'utf8')) as FixtureInput & { clients: Array<Record<string, unknown>> };
}
