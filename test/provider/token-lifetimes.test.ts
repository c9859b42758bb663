import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { client, discover, signIn } from '../support/openid.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const lifetime = (jwt: string) => {
  const { iat, exp } = decodeJwt(jwt);
  return exp! - iat!;
};

describe('token lifetimes of the seed client (access_token_ttl: 4)', () => {
  const testbed = useTestbed();
  const seedClient = () => discover(testbed(), 'node-openid-client', undefined, {}, client.ClientSecretBasic('password'));

  it('every access token lives 4 seconds: code exchange, refresh per resource, client credentials', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid profile fr:idm:*' });
    expect(tokens.expires_in).toBe(4);
    const directory = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9402/openidm/' });
    expect(directory.expires_in).toBe(4);
    expect(lifetime(directory.access_token)).toBe(4);
    const service = await client.clientCredentialsGrant(config, { resource: 'http://localhost:9401/', scope: 'profile' });
    expect(service.expires_in).toBe(4);
    expect(lifetime(service.access_token)).toBe(4);
  });

  it('other clients get the issuer default (1 hour); ID tokens keep theirs', async () => {
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const service = await client.clientCredentialsGrant(config, { resource: 'http://localhost:9401/', scope: 'profile' });
    expect(service.expires_in).toBe(3600);
    const { tokens } = await signIn(await seedClient(), { redirect_uri: 'http://localhost:3000/callback', scope: 'openid' });
    expect(lifetime(tokens.id_token!)).toBe(3600);
  });
});

describe('token lifetimes per resource (test fixture resources.yaml)', () => {
  const testbed = useTestbed({ fixture: fixturePath('resources.yaml') });
  const web = () => discover(testbed(), 'web', undefined, {}, client.ClientSecretBasic('web-secret'));

  it("a resource's access_token_ttl sets its tokens' lifetime; others use issuer.ttl.access_token", async () => {
    const config = await web();
    const short = await client.clientCredentialsGrant(config, { resource: 'http://localhost:9404/', scope: 'short:read' });
    expect(short.expires_in).toBe(30);
    expect(lifetime(short.access_token)).toBe(30);
    const profile = await client.clientCredentialsGrant(config, { resource: 'http://localhost:9401/', scope: 'profile' });
    expect(profile.expires_in).toBe(600);
    expect(lifetime(profile.access_token)).toBe(600);
  });

  it('applies to opaque resource tokens from a refresh too', async () => {
    const config = await web();
    const { tokens } = await signIn(
      config,
      { redirect_uri: 'http://localhost:3000/callback', scope: 'openid reports:read short:read' },
      { resource: 'http://localhost:9404/' },
    );
    expect(tokens.expires_in).toBe(30);
    const reports = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9403/reports/' });
    expect(reports.expires_in).toBe(120);
    const introspection = await client.tokenIntrospection(config, reports.access_token);
    expect(introspection.exp! - introspection.iat!).toBe(120);
  });

  it("a client's access_token_ttl wins over the resource's", async () => {
    const config = await discover(testbed(), 'quick', undefined, {}, client.ClientSecretBasic('quick-secret'));
    const short = await client.clientCredentialsGrant(config, { resource: 'http://localhost:9404/', scope: 'short:read' });
    expect(short.expires_in).toBe(7);
    expect(lifetime(short.access_token)).toBe(7);
  });
});
