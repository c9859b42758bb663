import { describe, expect, it } from '@jest/globals';
import { readJson } from '../support/http.ts';
import { discover } from '../support/openid.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const getJson = async (url: string) => readJson(await fetch(url));

describe('discovery with the default fixture', () => {
  const testbed = useTestbed();

  it('serves OpenID Connect discovery and RFC 8414 metadata with the same issuer', async () => {
    const oidc = await getJson(testbed().urls.discovery);
    const rfc8414 = await getJson(testbed().urls.authorizationServerMetadata);
    expect(oidc.status).toBe(200);
    expect(rfc8414.status).toBe(200);
    expect(oidc.body.issuer).toBe(testbed().issuer);
    expect(rfc8414.body.issuer).toBe(testbed().issuer);
    expect(rfc8414.body.token_endpoint).toBe(oidc.body.token_endpoint);
  });

  it('advertises exactly the enabled grant types and the endpoints that serve them', async () => {
    const { body } = await getJson(testbed().urls.discovery);
    expect([...(body.grant_types_supported as string[])].sort()).toEqual([
      'authorization_code',
      'client_credentials',
      'implicit',
      'password',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:openid:params:grant-type:ciba',
    ]);
    expect(body).toMatchObject({
      authorization_endpoint: testbed().urls.authorization,
      token_endpoint: testbed().urls.token,
      userinfo_endpoint: testbed().urls.userinfo,
      jwks_uri: testbed().urls.jwks,
      introspection_endpoint: testbed().urls.introspection,
      revocation_endpoint: testbed().urls.revocation,
      device_authorization_endpoint: testbed().urls.deviceAuthorization,
      end_session_endpoint: testbed().urls.endSession,
      pushed_authorization_request_endpoint: testbed().urls.pushedAuthorizationRequest,
      backchannel_authentication_endpoint: testbed().urls.backchannelAuthentication,
      registration_endpoint: testbed().urls.registration,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
    });
    expect(body.response_types_supported).toEqual(['code', 'id_token', 'code id_token', 'none']);
    expect(body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none']),
    );
  });

  it('publishes RS256, ES256 and Ed25519 public signing keys, and RSA-OAEP-256 and ECDH-ES encryption keys', async () => {
    const { status, body } = await getJson(testbed().urls.jwks);
    expect(status).toBe(200);
    const keys = body.keys as Array<Record<string, string>>;
    expect(keys.map((key) => key.alg).sort()).toEqual(['ECDH-ES', 'ES256', 'Ed25519', 'RS256', 'RSA-OAEP-256']);
    expect(keys.find((key) => key.alg === 'RSA-OAEP-256')).toMatchObject({ kty: 'RSA', use: 'enc' });
    expect(keys.find((key) => key.alg === 'ECDH-ES')).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'enc' });
    expect(keys.find((key) => key.alg === 'RS256')).toMatchObject({ kty: 'RSA', use: 'sig' });
    expect(keys.find((key) => key.alg === 'ES256')).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig' });
    expect(keys.find((key) => key.alg === 'Ed25519')).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig' });
    for (const key of keys) {
      expect(key.kid).toEqual(expect.any(String));
      expect(key).not.toHaveProperty('d'); // public parts only
    }
  });

  it('says which ID token claims mode each issuer is in: scopes, and strict for the fapi2 profile', async () => {
    expect((await getJson(testbed().urls.discovery)).body.oidc_testbed_id_token_claims).toBe('scopes');
    expect((await getJson(testbed().issuers['/fapi2'].urls.discovery)).body.oidc_testbed_id_token_claims).toBe('strict');
    expect((await getJson(testbed().urls.discovery)).body.claims_parameter_supported).toBe(true);
  });

  it('is what openid-client discovers', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    expect(config.serverMetadata().issuer).toBe(testbed().issuer);
    expect(config.serverMetadata().supportsPKCE()).toBe(true);
  });
});

describe('discovery with optional features off', () => {
  const testbed = useTestbed({ fixture: fixturePath('features-off.yaml') });

  it('advertises neither the device flow, introspection, client credentials nor implicit', async () => {
    for (const url of [testbed().urls.discovery, testbed().urls.authorizationServerMetadata]) {
      const { status, body } = await getJson(url);
      expect(status).toBe(200);
      expect([...(body.grant_types_supported as string[])].sort()).toEqual(['authorization_code', 'refresh_token']);
      expect(body).not.toHaveProperty('device_authorization_endpoint');
      expect(body).not.toHaveProperty('introspection_endpoint');
      expect(body.response_types_supported).toEqual(['code', 'none']);
      expect(body.revocation_endpoint).toBe(testbed().urls.revocation);
    }
  });

  it('does not serve what it does not advertise', async () => {
    const device = await fetch(testbed().urls.deviceAuthorization, { method: 'POST', body: new URLSearchParams({ client_id: 'web' }) });
    const introspection = await fetch(testbed().urls.introspection, { method: 'POST', body: new URLSearchParams({ token: 'x' }) });
    expect(device.status).toBe(404);
    expect(introspection.status).toBe(404);
  });
});
