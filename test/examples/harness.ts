/**
 * One express-openid-connect example per test file: the example app in-process on port 0, and a
 * testbed on the default fixture whose demo-RP URIs point at that port (useAppServer), so each
 * example runs with the fixture client and users it names for `oidc-testbed start`.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { type Example, type ExampleApp, type ExampleSettings, settingsFrom } from '../../examples/express-openid-connect/settings.ts';
import type { Testbed } from '../../src/index.ts';
import { defaultFixtureAt, useAppServer } from '../support/app-server.ts';
import { DIRECTORY_API, PROFILE_API } from '../support/resource-servers.ts';
import { purgePrefix, requireRedis, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { useTestbed } from '../support/testbed.ts';

export interface RunningExample {
  /** The app's origin, `http://localhost:<port>`. */
  origin(): string;
  testbed(): Testbed;
  settings(): ExampleSettings;
}

export interface ExampleOptions {
  /**
   * The example keeps sessions in Redis: on the test Redis, under a key prefix of its own, deleted
   * after. The file's tests must skip without Redis (see custom-session-store.test.ts).
   */
  redis?: boolean;
}

export function useExample(example: Example, options: ExampleOptions = {}): RunningExample {
  const server = useAppServer();
  const testbed = useTestbed(() => ({ fixture: defaultFixtureAt(server.origin()) }));
  let settings: ExampleSettings | undefined;
  let running: ExampleApp | undefined;
  beforeAll(async () => {
    // Without Redis (and without CI, where requireRedis throws) the file's Redis tests skip.
    if (options.redis && !(await requireRedis())) return;
    const { urls, issuer } = testbed();
    settings = {
      // The example's defaults, as `npm run example` has them without environment variables.
      ...settingsFrom(example, {}),
      issuerBaseURL: issuer,
      baseURL: server.origin(),
      redisUrl: testRedisUrl(),
      redisPrefix: uniquePrefix(example.name),
      // The mock APIs run on free ports; their audiences stay the fixture's indicators.
      apiUrls: { [PROFILE_API]: urls.profileApi!, [DIRECTORY_API]: urls.directoryApi! },
    };
    running = await example.create(settings);
    server.serve(running.app);
  });
  afterAll(async () => {
    await running?.close();
    if (options.redis && settings) await purgePrefix(settings.redisPrefix, settings.redisUrl);
  });
  return {
    origin: server.origin,
    testbed,
    settings: () => {
      if (!settings) throw new Error('the example is not started (use it inside a test)');
      return settings;
    },
  };
}
