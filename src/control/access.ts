/**
 * Who may use the control endpoints. They approve sign-ins, so they answer only:
 * - a client on this machine: the TCP peer is a loopback address (the socket's, never
 *   X-Forwarded-For: the app trusts proxy headers and any client can send them), addressing the
 *   testbed by a loopback name or the issuer's host (a rebound DNS name of a web page does neither);
 * - or a client bearing the control token (`--control-token`, OIDC_TESTBED_CONTROL_TOKEN).
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Context, Middleware } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';

export interface ControlAccessOptions {
  /** The token non-loopback clients must send as `Authorization: Bearer …`; none locks them out. */
  controlToken?: string;
  /** The issuer URL: its host is an accepted Host header besides loopback names. */
  issuer: string;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.x (a dual-stack socket's view of an IPv4 peer). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.startsWith('127.');
  return address === '::1';
}

export function controlAccess(options: ControlAccessOptions): Middleware {
  const issuerHost = new URL(options.issuer).hostname;
  const expected = options.controlToken === undefined ? undefined : digest(options.controlToken);

  const fromThisMachine = (ctx: Context) => {
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) return false;
    const host = URL.parse(`http://${ctx.req.headers.host ?? ''}`)?.hostname;
    return host !== undefined && (host === issuerHost || host === 'localhost' || host === '[::1]' || isLoopbackAddress(host));
  };

  return async function guardControl(ctx, next) {
    if (fromThisMachine(ctx)) return next();
    if (!expected) {
      return answerOAuthError(
        ctx,
        403,
        'access_denied',
        'control endpoints answer loopback clients only; start the testbed with --control-token to use them from elsewhere',
      );
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'))?.[1];
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="oidc-testbed control"');
      return answerOAuthError(
        ctx,
        401,
        'invalid_token',
        'control endpoints need Authorization: Bearer <control token> (the --control-token the testbed was started with) from clients not on this machine',
      );
    }
    return next();
  };
}

/**
 * Form posts from the control page (CSRF): a browser names the page's origin in `Origin` (or
 * `Referer`) on every POST; a request naming another origin came from another site's page. Clients
 * that send neither are not browsers.
 */
export function sameOriginPosts(options: { issuer: string }): Middleware {
  const issuerOrigin = new URL(options.issuer).origin;
  return async function refuseCrossSitePosts(ctx, next) {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();
    const origin = ctx.get('origin') || (URL.parse(ctx.get('referer'))?.origin ?? '');
    // The origin the request addressed (koa 3's `ctx.origin` is the Origin header itself).
    const addressed = `${ctx.protocol}://${ctx.host}`;
    if (origin && origin !== addressed && origin !== issuerOrigin) {
      return answerOAuthError(
        ctx,
        403,
        'access_denied',
        `cross-site request refused: the control endpoints accept posts from their own pages only (Origin ${origin})`,
      );
    }
    return next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
