/**
 * A 3-primary Redis Cluster started by the test runs the core flows. Each issuer's keys carry one
 * hash tag, so its multi-key operations (MULTI, Lua) stay in one slot; several issuers spread out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { SUITE_FIXTURE, uniquePrefix } from '../support/store.ts';
import { clientCredentialsRevocation, codeRefreshIntrospectRevoke, deviceFlow, sessionReuse } from './core-flows.ts';
import { RedisCluster, requireRedisBinaries } from './redis-servers.ts';

const binaries = requireRedisBinaries();

(binaries ? describe : describe.skip)('on a 3-primary Redis Cluster', () => {
  let cluster: RedisCluster;
  let testbed: Testbed;
  const prefix = uniquePrefix('cluster');
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    testbed = await startTestbed({ port: 0, fixture: SUITE_FIXTURE, apis: false, logLevel: 'silent', redis: { url: cluster.url, prefix } });
  }, 60000);
  afterAll(async () => {
    await testbed?.stop();
    await cluster?.destroy();
  });

  it('connects as a cluster client', async () => {
    const health = await (await fetch(testbed.urls.health)).json();
    expect(health).toMatchObject({ status: 'ok', store: { ok: true, kind: 'redis', status: 'ready', target: cluster.url } });
  });
  it('code + PKCE, userinfo, refresh per resource, introspection, revocation, reuse detection', () =>
    codeRefreshIntrospectRevoke(testbed.issuer));
  it('session reuse with prompt=none', () => sessionReuse(testbed.issuer));
  it('client credentials JWT revocation', () => clientCredentialsRevocation(testbed.issuer));
  it('device authorization grant', () => deviceFlow(testbed.issuer));

  it("keeps all of one issuer's keys on one slot", async () => {
    const slots = new Set<number>();
    let keys = 0;
    for (const server of cluster.servers) {
      const node = new Redis(server.port, '127.0.0.1');
      for (const key of await node.keys(`${prefix}*`)) {
        keys += 1;
        slots.add((await node.cluster('KEYSLOT', key)) as number);
      }
      node.disconnect();
    }
    expect(keys).toBeGreaterThan(5);
    expect([...slots]).toHaveLength(1);
  });
});
