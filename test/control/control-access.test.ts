/**
 * The control endpoints' guard on requests whose TCP peer the test chooses (a socket with a given
 * remote address): loopback peers pass, others need the control token; proxy headers count for
 * nothing; cross-site form posts are refused.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import Koa, { type Middleware } from 'koa';
import { controlAccess, isLoopbackAddress, sameOriginPosts } from '../../src/control/access.ts';

const ISSUER = 'http://localhost:9400';
const TOKEN = 'a-control-token-for-the-test-0123456789';

function request(peer: string, headers: Record<string, string> = {}, method = 'GET'): Koa.Context {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: peer });
  const req = new IncomingMessage(socket);
  req.method = method;
  req.url = '/_testbed/ciba';
  req.headers = { host: 'localhost:9400', ...headers };
  return new Koa({ proxy: true }).createContext(req, new ServerResponse(req));
}

async function passes(middleware: Middleware, ctx: Koa.Context): Promise<boolean> {
  let passed = false;
  await middleware(ctx, async () => {
    passed = true;
  });
  return passed;
}

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['192.0.2.2', false],
    ['::ffff:10.0.0.5', false],
    ['fd00::2', false],
    ['128.0.0.1', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

describe('controlAccess', () => {
  const open = controlAccess({ issuer: ISSUER });
  const locked = controlAccess({ issuer: ISSUER, controlToken: TOKEN });

  it('lets a loopback peer through, IPv4, IPv6 and IPv4-mapped alike, with or without a token configured', async () => {
    for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      expect(await passes(open, request(peer))).toBe(true);
      expect(await passes(locked, request(peer, { host: '127.0.0.1:9400' }))).toBe(true);
    }
  });

  it('refuses any other peer with 403 when no control token is configured, whatever X-Forwarded-For says', async () => {
    const ctx = request('10.0.0.5', { 'x-forwarded-for': '127.0.0.1', authorization: `Bearer ${TOKEN}` });
    expect(await passes(open, ctx)).toBe(false);
    expect(ctx.status).toBe(403);
    expect(ctx.body).toEqual({
      error: 'access_denied',
      error_description:
        'control endpoints answer loopback clients only; start the testbed with --control-token to use them from elsewhere',
    });
    expect(ctx.response.get('cache-control')).toBe('no-store');
  });

  it('refuses a loopback peer that addresses the testbed by a foreign host name (DNS rebinding)', async () => {
    const ctx = request('127.0.0.1', { host: 'attacker.example:9400' });
    expect(await passes(open, ctx)).toBe(false);
    expect(ctx.status).toBe(403);
  });

  it('lets another peer through with the control token only, and answers 401 invalid_token otherwise', async () => {
    expect(await passes(locked, request('192.0.2.7', { authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(await passes(locked, request('192.0.2.7', { authorization: `bearer ${TOKEN}` }))).toBe(true);
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, 'Bearer']) {
      const ctx = request('192.0.2.7', authorization ? { authorization } : {});
      expect(await passes(locked, ctx)).toBe(false);
      expect(ctx.status).toBe(401);
      expect(ctx.response.get('www-authenticate')).toBe('Bearer realm="oidc-testbed control"');
      expect(ctx.body).toMatchObject({ error: 'invalid_token' });
    }
  });
});

describe('sameOriginPosts', () => {
  const guard = sameOriginPosts({ issuer: ISSUER });

  it('lets same-origin posts, posts naming the issuer origin, posts without Origin or Referer, and GETs through', async () => {
    expect(await passes(guard, request('127.0.0.1', { origin: 'http://localhost:9400' }, 'POST'))).toBe(true);
    expect(await passes(guard, request('127.0.0.1', { host: '127.0.0.1:9400', origin: 'http://127.0.0.1:9400' }, 'POST'))).toBe(true);
    expect(await passes(guard, request('127.0.0.1', { host: '127.0.0.1:9400', origin: ISSUER }, 'POST'))).toBe(true);
    expect(await passes(guard, request('127.0.0.1', { referer: 'http://localhost:9400/_testbed/ciba' }, 'POST'))).toBe(true);
    expect(await passes(guard, request('127.0.0.1', {}, 'POST'))).toBe(true);
    expect(await passes(guard, request('127.0.0.1', { origin: 'http://evil.example' }, 'GET'))).toBe(true);
  });

  it("refuses posts from another origin, a null origin, or another site's page", async () => {
    const crossSite: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: 'http://localhost:9401' },
      { referer: 'http://evil.example/page' },
    ];
    for (const headers of crossSite) {
      const ctx = request('127.0.0.1', headers, 'POST');
      expect(await passes(guard, ctx)).toBe(false);
      expect(ctx.status).toBe(403);
      expect(ctx.body).toMatchObject({ error: 'access_denied' });
    }
  });
});
