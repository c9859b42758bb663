/**
 * Fault rules on Redis: two testbeds with the same issuer and prefix are replicas of one IdP, and a
 * rule added through one is in force on the other, its hits counted once across both.
 */
import { describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { controlCall } from '../support/http.ts';
import { PROFILE_API } from '../support/resource-servers.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { readFixture } from '../support/testbed.ts';
import { useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('fault rules shared by two replicas on one Redis', () => {
  const { one, two, on } = useReplicaPair({
    prefix: uniquePrefix('faults'),
    fixture: {
      ...readFixture('suite.yaml'),
      faults: [{ id: 'jwks-once', endpoint: 'jwks' as const, times: 1, respond: { status: 429, headers: { 'Retry-After': '1' } } }],
    },
    apis: false,
  });

  it('a fixture rule is counted once across replicas', async () => {
    on(two());
    expect((await fetch(`${one().issuer}/jwks`)).status).toBe(429);
    on(one());
    expect((await fetch(`${one().issuer}/jwks`)).status).toBe(200);
    expect(await two().main.faults.hits('jwks-once')).toBe(1);
  });

  it('a rule added on replica 1 is hit on replica 2, and removed there for both', async () => {
    on(one());
    const config = await client.discovery(
      new URL(one().issuer),
      'service-client',
      undefined,
      client.ClientSecretBasic('service-client-secret'),
      { execute: [client.allowInsecureRequests] },
    );
    const added = await controlCall('POST', `${one().issuer}/_testbed/faults`, {
      endpoint: 'token',
      match: { client_id: 'service-client', grant_type: 'client_credentials' },
      after: 1,
      times: 2,
      respond: { status: 400, body: { error: 'invalid_client', error_description: 'injected' } },
    });
    expect(added.status).toBe(201);
    const { id } = added.body as { id: string };

    const outcomes: Array<string> = [];
    for (const replica of [two(), one(), two(), one()]) {
      on(replica);
      outcomes.push(
        await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' }).then(
          () => 'issued',
          (error: unknown) => (error instanceof client.ResponseBodyError ? error.error : String(error)),
        ),
      );
    }
    expect(outcomes).toEqual(['issued', 'invalid_client', 'invalid_client', 'issued']);

    on(two());
    const listed = (await (await fetch(`${one().issuer}/_testbed/faults`)).json()) as { faults: Array<{ id: string; hits: number }> };
    expect(listed.faults.find((fault) => fault.id === id)).toMatchObject({ hits: 2 });
    expect((await fetch(`${one().issuer}/_testbed/faults/${id}`, { method: 'DELETE' })).status).toBe(204);
    on(one());
    expect((await fetch(`${one().issuer}/_testbed/faults/${id}`)).status).toBe(404);
    expect((await one().main.faults.list()).map((fault) => fault.id)).toEqual(['jwks-once']);
  });

  it('reset through one replica puts the fixture rule back for both', async () => {
    await one().main.faults.clear();
    on(two());
    expect((await fetch(`${one().issuer}/jwks`)).status).toBe(200);
    await one().main.faults.reset();
    expect((await two().main.faults.list()).map(({ id, hits }) => ({ id, hits }))).toEqual([{ id: 'jwks-once', hits: 0 }]);
    expect((await fetch(`${one().issuer}/jwks`)).status).toBe(429);
  });
});
