/**
 * Dynamically registered clients live in the store: on Redis, a client registered with one testbed
 * signs in at the next testbed started on the same Redis prefix and issuer URL, and can still be
 * managed there (RFC 7592).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startTestbed, type Testbed, type TestbedOptions } from '../../src/index.ts';
import { client, signIn } from '../support/openid.ts';
import { REGISTERED_REDIRECT_URI, register, registrationRequest } from '../support/registration.ts';
import { purgePrefix, requireRedis, SUITE_FIXTURE, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { freePort } from './redis-servers.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('a dynamically registered client on Redis', () => {
  const prefix = uniquePrefix('registration');
  let running: Testbed | undefined;
  afterAll(async () => {
    await running?.stop();
    await purgePrefix(prefix);
  });

  it('outlives the testbed that registered it: the next testbed on the same prefix signs it in and manages it', async () => {
    const options: TestbedOptions = { port: await freePort(), fixture: SUITE_FIXTURE, apis: false, redis: { url: testRedisUrl(), prefix } };
    running = await startTestbed(options);
    const { issuer } = running;
    const registered = await register(issuer);
    const {
      client_id: clientId,
      client_secret: clientSecret,
      registration_access_token: token,
      registration_client_uri: uri,
    } = registered.clientMetadata() as client.ClientMetadata & { registration_access_token: string; registration_client_uri: string };

    // Stored without an expiry (RFC 7591 §3.2.1 client_secret_expires_at: 0).
    const raw = new Redis(testRedisUrl());
    const [record] = await raw.keys(`${prefix}*:Client:${clientId}`);
    const ttl = await raw.ttl(record);
    raw.disconnect();
    expect(ttl).toBe(-1);

    await running.stop();
    running = undefined;
    running = await startTestbed(options);
    expect(running.issuer).toBe(issuer);

    // What an RP keeps from its registration: client_id and secret, used against the restarted issuer.
    const config = await client.discovery(
      new URL(issuer),
      clientId,
      { client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_post' },
      undefined,
      { execute: [client.allowInsecureRequests] },
    );
    const { tokens } = await signIn(config, { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid profile' });
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: clientId, sub: 'alice' });

    const read = await registrationRequest(uri, 'GET', { token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: clientId, redirect_uris: [REGISTERED_REDIRECT_URI] });
    expect((await registrationRequest(uri, 'DELETE', { token })).status).toBe(204);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_client' });
  });
});
