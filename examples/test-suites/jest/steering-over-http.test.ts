/**
 * An RP's jest suite against one shared testbed (see global-setup.ts), steered over HTTP through
 * `<issuer>/_testbed/…` — the same calls work against `docker run … oidc-testbed` in CI. Tests
 * share the IdP, so each resets it afterwards and the files run one at a time (jest.config.js).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';

const issuer = process.env.OIDC_TESTBED_ISSUER!;

/** A control call: JSON in and out; errors are `{ error, error_description }` with 400/404/409. */
async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const answer = await fetch(`${issuer}/_testbed${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The code under test would do this: a code-flow RP, here reduced to the password grant of `legacy-app`. */
async function signIn(username: string, password: string) {
  const config = await client.discovery(new URL(issuer), 'legacy-app', 'legacy-app-secret', undefined, {
    execute: [client.allowInsecureRequests], // the testbed is plain http on localhost
  });
  return client.genericGrantRequest(config, 'password', { username, password, scope: 'openid email' });
}

afterEach(async () => {
  expect((await control('POST', '/reset')).status).toBe(204);
});

describe('an RP suite steering a shared testbed over HTTP', () => {
  it('signs in a user PUT for this test', async () => {
    const put = await control('PUT', '/users/erin', { password: 'erin-password', claims: { email: 'erin@example.com' } });
    expect(put.status).toBe(201);
    expect((await signIn('erin', 'erin-password')).claims()).toMatchObject({ sub: 'erin', email: 'erin@example.com' });
  });

  it('meets a token endpoint that answers 429 with Retry-After', async () => {
    const fault = await control('POST', '/faults', {
      endpoint: 'token',
      respond: { status: 429, headers: { 'Retry-After': '2' }, body: { error: 'slow_down' } },
    });
    expect(fault.status).toBe(201);
    await expect(signIn('alice', 'alice-password')).rejects.toMatchObject({ error: 'slow_down', status: 429 });
    const listed = await control('GET', `/faults/${fault.json.id}`);
    expect(listed.json.hits).toBe(1);
  });

  it('is told clearly what it got wrong', async () => {
    const refused = await control('PUT', '/clock', { offset_s: '300' });
    expect(refused).toEqual({ status: 400, json: { error: 'invalid_request', error_description: expect.stringContaining('offset_s') } });
  });
});
