/**
 * The core flows on the memory store and on Redis, with the same assertions: whatever the store,
 * the protocol answers the same. (The acceptance suite (test/provider and beside it) runs on Redis too with
 * `npm run test:idp:redis`.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestbed, type Testbed, type TestbedOptions } from '../../src/index.ts';
import { requireRedis, SUITE_FIXTURE, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { clientCredentialsRevocation, codeRefreshIntrospectRevoke, deviceFlow, sessionReuse } from './core-flows.ts';

const redisUp = await requireRedis();
const stores: Array<[string, TestbedOptions]> = [['memory', { redis: false }]];
if (redisUp) stores.push(['redis', { redis: { url: testRedisUrl(), prefix: uniquePrefix('flows'), purgeOnClose: true } }]);

describe.each(stores)('core flows on the %s store', (kind, options) => {
  let testbed: Testbed;
  beforeAll(async () => {
    testbed = await startTestbed({ port: 0, fixture: SUITE_FIXTURE, apis: false, ...options });
  });
  afterAll(async () => {
    await testbed.stop();
  });

  it('runs on the intended store', async () => {
    const health = (await (await fetch(testbed.urls.health)).json()) as { store: { kind: string } };
    expect(health.store.kind).toBe(kind);
  });
  it('code + PKCE, userinfo, refresh per resource, introspection, revocation, reuse detection', () =>
    codeRefreshIntrospectRevoke(testbed.issuer));
  it('session reuse with prompt=none', () => sessionReuse(testbed.issuer));
  it('client credentials JWT revocation', () => clientCredentialsRevocation(testbed.issuer));
  it('device authorization grant', () => deviceFlow(testbed.issuer));
});
