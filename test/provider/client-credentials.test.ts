import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { postForm } from '../support/http.ts';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const PROFILE_API = 'http://localhost:9401/';
const DIRECTORY_API = 'http://localhost:9402/openidm/';

describe('client credentials grant', () => {
  const testbed = useTestbed();
  const serviceClient = () => discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));

  it('with a resource: a JWT access token for that audience whose subject is the client', async () => {
    const config = await serviceClient();
    const tokens = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: testbed().issuer,
      aud: PROFILE_API,
      client_id: 'service-client',
      sub: 'service-client',
      scope: 'profile',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it('with a scope owned by one resource and no resource: a token for that resource', async () => {
    const config = await serviceClient();
    const tokens = await client.clientCredentialsGrant(config, { scope: 'fr:idm:*' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*', sub: 'service-client' });
    expect(tokens.scope).toBe('fr:idm:*');
  });

  it('without resource or resource scope: an opaque token, no audience, that introspects active', async () => {
    const config = await serviceClient();
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, client_id: 'service-client', token_type: 'Bearer' });
    expect(introspection.aud).toBeUndefined();
  });

  it('works for the seed client too, with its 4-second access tokens', async () => {
    const config = await discover(testbed(), 'node-openid-client', undefined, {}, client.ClientSecretBasic('password'));
    const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' });
    expect(tokens.expires_in).toBe(4);
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      aud: DIRECTORY_API,
      client_id: 'node-openid-client',
      sub: 'node-openid-client',
    });
  });

  it('refuses an unknown resource (invalid_target)', async () => {
    const { status, body } = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', resource: 'http://localhost:9999/' },
      { basic: ['service-client', 'service-client-secret'] },
    );
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_target');
  });
});
