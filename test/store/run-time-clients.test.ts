/**
 * Run-time clients on Redis: two testbeds with the same issuer and prefix are replicas of one IdP,
 * and a client put, replaced or deleted through one is in force on the other's next request — the
 * engine's metadata (the `Client` model) and the testbed's policy (first_party, access_token_ttl).
 */
import { describe, expect, it } from '@jest/globals';
import { controlCall, postForm, readJson } from '../support/http.ts';
import { client, discoverAt, signIn } from '../support/openid.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();
const REDIRECT_URI = 'http://localhost:4100/callback';
const ENTRY = {
  client_secret: 'replicated-secret',
  token_endpoint_auth_method: 'client_secret_basic' as const,
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'client_credentials'],
  response_types: ['code'],
  first_party: true,
  access_token_ttl: 99,
};

(redisUp ? describe : describe.skip)('run-time clients on two replicas of one issuer, on one Redis', () => {
  const { issuer, one, two, on } = useReplicaPair({ prefix: uniquePrefix('run-time-clients'), apis: false });
  const clientCredentials = (secret: string) =>
    postForm(`${issuer()}/token`, { grant_type: 'client_credentials' }, { basic: ['replicated', secret] });

  it('a client PUT through replica 1 signs in through replica 2 with its testbed fields; DELETE on 2 is refused on 1', async () => {
    on(one());
    const created = await controlCall('PUT', `${issuer()}/_testbed/clients/replicated`, ENTRY);
    expect(created.status).toBe(201);

    on(two());
    const listed = await readJson<{ clients: Array<{ client_id: string; source: string }> }>(await fetch(`${issuer()}/_testbed/clients`));
    expect(listed.body.clients).toContainEqual(expect.objectContaining({ client_id: 'replicated', source: 'run-time' }));
    const config = await discoverAt(issuer(), 'replicated', ENTRY.client_secret);
    // auto-login, and first_party on replica 2's policy: no page; its access_token_ttl in expires_in.
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile' });
    expect(tokens.claims()).toMatchObject({ iss: issuer(), aud: 'replicated', sub: 'alice' });
    expect(tokens.expires_in).toBe(99);

    // Replaced through replica 2's library object: replica 1 takes the new secret and lifetime at once.
    await two().main.clients.put('replicated', { ...ENTRY, client_secret: 'second-secret', access_token_ttl: 42 });
    on(one());
    expect((await clientCredentials(ENTRY.client_secret)).body.error).toBe('invalid_client');
    const issued = await clientCredentials('second-secret');
    expect(issued.status).toBe(200);
    expect(issued.body.expires_in).toBe(42);

    on(two());
    expect((await fetch(`${issuer()}/_testbed/clients/replicated`, { method: 'DELETE' })).status).toBe(204);
    on(one());
    const refused = await clientCredentials('second-secret');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await fetch(`${issuer()}/_testbed/clients/replicated`)).status).toBe(404);
    await expect(client.clientCredentialsGrant(config)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('reset on one replica drops every run-time client for both', async () => {
    await one().main.clients.put('replicated', ENTRY);
    on(two());
    expect((await clientCredentials(ENTRY.client_secret)).status).toBe(200);
    await one().main.clients.reset();
    expect((await clientCredentials(ENTRY.client_secret)).body.error).toBe('invalid_client');
    expect((await two().main.clients.list()).filter((listed) => listed.source === 'run-time')).toEqual([]);
  });
});
