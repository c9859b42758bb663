/**
 * Fault rules on Redis: two testbeds with the same issuer and prefix are replicas of one IdP, and a
 * rule added through one is in force on the other, its hits counted once across both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import * as client from 'openid-client';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { requireRedis, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { readFixture } from '../support/testbed.ts';
import { type Switch, startSwitch } from './testbed-processes.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('fault rules shared by two replicas on one Redis', () => {
  const prefix = uniquePrefix('faults');
  let gateway: Switch;
  let one: Testbed;
  let two: Testbed;
  const portOf = (replica: Testbed) => Number(new URL(replica.urls.health).port);
  /** Sends the following requests to a replica. */
  const on = (replica: Testbed) => {
    gateway.target = portOf(replica);
  };

  beforeAll(async () => {
    gateway = await startSwitch();
    const fixture = {
      ...readFixture('suite.yaml'),
      faults: [{ id: 'jwks-once', endpoint: 'jwks' as const, times: 1, respond: { status: 429, headers: { 'Retry-After': '1' } } }],
    };
    const options = {
      port: 0,
      fixture,
      issuer: `http://localhost:${gateway.port}`,
      redis: { url: testRedisUrl(), prefix },
      apis: false as const,
      logLevel: 'silent' as const,
    };
    [one, two] = await Promise.all([startTestbed(options), startTestbed(options)]);
  }, 30000);

  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await gateway?.close();
    const raw = new Redis(testRedisUrl());
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.unlink(...keys);
    raw.disconnect();
  });

  it('a fixture rule is counted once across replicas', async () => {
    on(two);
    expect((await fetch(`${one.issuer}/jwks`)).status).toBe(429);
    on(one);
    expect((await fetch(`${one.issuer}/jwks`)).status).toBe(200);
    expect(await two.main.faults.hits('jwks-once')).toBe(1);
  });

  it('a rule added on replica 1 is hit on replica 2, and removed there for both', async () => {
    on(one);
    const config = await client.discovery(
      new URL(one.issuer),
      'service-client',
      undefined,
      client.ClientSecretBasic('service-client-secret'),
      { execute: [client.allowInsecureRequests] },
    );
    const added = await fetch(`${one.issuer}/_testbed/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        endpoint: 'token',
        match: { client_id: 'service-client', grant_type: 'client_credentials' },
        after: 1,
        times: 2,
        respond: { status: 400, body: { error: 'invalid_client', error_description: 'injected' } },
      }),
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };

    const outcomes: Array<string> = [];
    for (const replica of [two, one, two, one]) {
      on(replica);
      outcomes.push(
        await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' }).then(
          () => 'issued',
          (error: unknown) => (error instanceof client.ResponseBodyError ? error.error : String(error)),
        ),
      );
    }
    expect(outcomes).toEqual(['issued', 'invalid_client', 'invalid_client', 'issued']);

    on(two);
    const listed = (await (await fetch(`${one.issuer}/_testbed/faults`)).json()) as { faults: Array<{ id: string; hits: number }> };
    expect(listed.faults.find((fault) => fault.id === id)).toMatchObject({ hits: 2 });
    expect((await fetch(`${one.issuer}/_testbed/faults/${id}`, { method: 'DELETE' })).status).toBe(204);
    on(one);
    expect((await fetch(`${one.issuer}/_testbed/faults/${id}`)).status).toBe(404);
    expect((await one.main.faults.list()).map((fault) => fault.id)).toEqual(['jwks-once']);
  });

  it('reset through one replica puts the fixture rule back for both', async () => {
    await one.main.faults.clear();
    on(two);
    expect((await fetch(`${one.issuer}/jwks`)).status).toBe(200);
    await one.main.faults.reset();
    expect((await two.main.faults.list()).map(({ id, hits }) => ({ id, hits }))).toEqual([{ id: 'jwks-once', hits: 0 }]);
    expect((await fetch(`${one.issuer}/jwks`)).status).toBe(429);
  });
});
