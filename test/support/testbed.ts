/**
 * One testbed per test file, started on port 0 in `beforeAll` and stopped in `afterAll`. Every
 * request the testbed answers is recorded from its request log, and `afterAll` fails the file if
 * any of them was a 5xx: a client mistake must never be a server error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from '@jest/globals';
import { pino } from 'pino';
import { parse } from 'yaml';
import { startTestbed, type FixtureInput, type Testbed, type TestbedOptions } from '../../src/index.ts';
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

/** Starts a testbed on port 0 (on the store `TESTBED_TEST_STORE` selects) whose request log is kept in memory. */
export async function startRecordedTestbed(options: Omit<TestbedOptions, 'port' | 'logger' | 'logLevel'> = {}): Promise<RecordedTestbed> {
  const requests: LoggedRequest[] = [];
  const logger = pino({ level: 'info', base: undefined }, {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string } & Partial<LoggedRequest>;
      if (entry.msg === 'request') requests.push({ method: entry.method!, path: entry.path!, status: entry.status! });
    },
  });
  const testbed = await startTestbed(testbedOptions({ ...options, port: 0, logger }));
  return { testbed, requests, stop: () => testbed.stop() };
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
