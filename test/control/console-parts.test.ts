/**
 * The console's parts over HTTP and as functions: the page and its policy, the row fragments the
 * page fetches live, the hints, the curl of a request, and the CSRF check of its action buttons.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hintFor } from '../../src/control/console/hints.ts';
import { curlOf, relative, userOf } from '../../src/control/console/requests.ts';
import type { ShownRequest } from '../../src/control/recorded-json.ts';
import { useTestbed } from '../support/testbed.ts';

describe('the console over HTTP', () => {
  const testbed = useTestbed({ apis: false });

  it('GET <issuer>/_testbed/ is the page: HTML, no-store, a CSP allowing exactly its inline style and script by hash', async () => {
    for (const path of ['/_testbed/', '/_testbed']) {
      const answer = await fetch(`${testbed().issuer}${path}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const html = await answer.text();
      expect(html).toContain('<h1>Console</h1>');
      const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
      const inline = (tag: string) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => hash(match[1]));
      const policy = answer.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain(`script-src ${inline('script').join(' ')}`);
      expect(policy).toContain(`style-src ${inline('style').join(' ')}`);
      expect(inline('script')).toHaveLength(1);
      expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[^>]*rel="stylesheet"|https?:\/\/(?!localhost)[^"'\s<]*\.(js|css)/);
    }
  });

  it('GET …/console/requests?since= answers the rows after the cursor, newest first, with X-Cursor; 400 without a cursor', async () => {
    const cursor = testbed().main.requests.cursor;
    await fetch(testbed().urls.discovery);
    await fetch(testbed().urls.jwks);
    const answer = await fetch(`${testbed().issuer}/_testbed/console/requests?since=${cursor}`);
    expect(answer.status).toBe(200);
    expect(Number(answer.headers.get('x-cursor'))).toBe(cursor + 2);
    const html = await answer.text();
    const endpoints = [...html.matchAll(/<tr class="req [^"]*" data-seq="(\d+)" data-client="" data-endpoint="([^"]+)"/g)].map((m) => [
      Number(m[1]),
      m[2],
    ]);
    expect(endpoints).toEqual([
      [cursor + 2, 'jwks'],
      [cursor + 1, 'discovery'],
    ]);
    for (const query of ['', '?since=x']) {
      const refused = await fetch(`${testbed().issuer}/_testbed/console/requests${query}`);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('since') });
    }
  });

  it("records the OAuth error of an error page and of an error redirect to the client, for the rows' hints", async () => {
    const cursor = testbed().main.requests.cursor;
    const auth = testbed().urls.authorization;
    const pkce = 'code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';
    await fetch(`${auth}?client_id=web-app&response_type=code&scope=openid&redirect_uri=http://localhost:3001/elsewhere`, {
      redirect: 'manual',
    });
    const silent = await fetch(
      `${auth}?client_id=web-app&response_type=code&scope=openid&redirect_uri=http://localhost:3001/callback&prompt=none&${pkce}`,
      {
        redirect: 'manual',
      },
    );
    expect(silent.status).toBe(303);
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    const { requests } = (await (await fetch(`${testbed().issuer}/_testbed/requests?since=${cursor}`)).json()) as {
      requests: Array<{ endpoint: string; status: number; error?: string }>;
    };
    expect(requests.map(({ endpoint, status, error }) => ({ endpoint, status, error }))).toEqual([
      { endpoint: 'authorization', status: 400, error: 'invalid_redirect_uri' },
      { endpoint: 'authorization', status: 303, error: 'login_required' },
    ]);
  });

  it('GET …/console/glance answers the sections; the console is not in the record', async () => {
    const cursor = testbed().main.requests.cursor;
    const answer = await fetch(`${testbed().issuer}/_testbed/console/glance`);
    expect(answer.status).toBe(200);
    const html = await answer.text();
    for (const id of ['clients', 'users', 'resources', 'scenarios']) expect(html).toContain(`<section id="${id}"`);
    expect(html).toContain('data-client-id="web-app"');
    await fetch(`${testbed().issuer}/_testbed/`);
    expect(testbed().main.requests.cursor).toBe(cursor);
  });

  it("refuses an action from another site's page (the CSRF check of every control endpoint)", async () => {
    const answer = await fetch(`${testbed().issuer}/_testbed/requests`, { method: 'DELETE', headers: { origin: 'http://evil.example' } });
    expect(answer.status).toBe(403);
    expect(await answer.json()).toMatchObject({ error: 'access_denied' });
    const same = await fetch(`${testbed().issuer}/_testbed/requests`, {
      method: 'DELETE',
      headers: { origin: new URL(testbed().issuer).origin },
    });
    expect(same.status).toBe(204);
  });

  it('a further issuer has a console of its own (no scenario table there)', async () => {
    const answer = await fetch(`${testbed().issuer}/fapi2/_testbed/`);
    expect(answer.status).toBe(200);
    const html = await answer.text();
    expect(html).toContain(`<code>${testbed().issuer}/fapi2</code>`);
    expect(html).toContain('data-base="/fapi2/_testbed"');
    expect(html).not.toContain('<section id="scenarios"');
  });
});

describe('the hints', () => {
  it('tell causes apart by endpoint, error and grant type', () => {
    expect(hintFor({ endpoint: 'token', error: 'invalid_grant', grant_type: 'authorization_code' })).toMatch(
      /used twice.*PKCE code_verifier/,
    );
    expect(hintFor({ endpoint: 'token', error: 'invalid_grant', grant_type: 'refresh_token' })).toMatch(
      /rotated refresh token is single-use/,
    );
    expect(hintFor({ endpoint: 'token', error: 'invalid_grant', grant_type: 'urn:ietf:params:oauth:grant-type:device_code' })).toMatch(
      /device_code/,
    );
    expect(hintFor({ endpoint: 'resume', error: 'access_denied' })).toMatch(/Deny or Cancel/);
    expect(hintFor({ endpoint: 'revocation', error: 'invalid_client' })).toMatch(/token_endpoint_auth_method/);
    expect(hintFor({ endpoint: 'userinfo', error: 'invalid_token' })).toMatch(/Authorization: DPoP/);
    expect(hintFor({ endpoint: 'token' })).toBeUndefined();
    expect(hintFor({ endpoint: 'jwks', error: 'server_error' })).toBeUndefined();
  });
});

describe('copy as curl', () => {
  const entry = (over: Partial<ShownRequest>): ShownRequest => ({
    seq: 1,
    at: '2026-01-01T00:00:00.000Z',
    method: 'POST',
    path: '/token',
    status: 200,
    ms: 1,
    endpoint: 'token',
    ...over,
  });
  const context = {
    origin: 'http://localhost:9400',
    authMethod: (id: string) => (id === 'basic-app' ? 'client_secret_basic' : 'client_secret_post'),
  };

  it('puts each recorded secret as a shell variable, the rest quoted; HTTP Basic clients get -u', () => {
    const curl = curlOf(
      entry({
        client_id: 'basic-app',
        params: { grant_type: 'refresh_token', refresh_token: 'abcdef…#12345678', scope: "it's" },
      }),
      context,
    );
    expect(curl).toBe(
      [
        "curl 'http://localhost:9400/token'",
        `-u 'basic-app:'"$CLIENT_SECRET"`,
        "--data-urlencode 'grant_type=refresh_token'",
        '--data-urlencode "refresh_token=$REFRESH_TOKEN"',
        `--data-urlencode 'scope=it'\\''s'`,
      ].join(' \\\n  '),
    );
  });

  it('a GET is -G with its parameters; userinfo gets the bearer token as a variable; the mock APIs have none', () => {
    expect(curlOf(entry({ method: 'GET', path: '/auth', endpoint: 'authorization', params: { client_id: 'a b' } }), context)).toBe(
      "curl -G 'http://localhost:9400/auth' \\\n  --data-urlencode 'client_id=a b'",
    );
    expect(curlOf(entry({ method: 'GET', path: '/me', endpoint: 'userinfo' }), context)).toBe(
      `curl -G 'http://localhost:9400/me' \\\n  -H "Authorization: Bearer $ACCESS_TOKEN"`,
    );
    expect(curlOf(entry({ method: 'GET', path: '/userinfo', endpoint: 'profile-api' }), context)).toBeUndefined();
  });
});

describe('the row helpers', () => {
  it('relative times and the user of a request', () => {
    expect(relative(1003, 1000)).toBe('in 3 s');
    expect(relative(1000, 1300)).toBe('5 min ago');
    expect(relative(1000 + 7200, 1000)).toBe('in 2 h');
    expect(
      userOf({
        seq: 1,
        at: '',
        method: 'POST',
        path: '/token',
        status: 200,
        ms: 1,
        endpoint: 'token',
        issued: { id_token: { claims: { sub: 'bob' } } },
      }),
    ).toBe('bob');
    expect(
      userOf({ seq: 1, at: '', method: 'POST', path: '/token', status: 400, ms: 1, endpoint: 'token', params: { username: 'carol' } }),
    ).toBe('carol');
  });
});
