/**
 * The floor for the mock APIs: the least a Koa resource server can do.
 *
 *   GET /verify   verifies the bearer JWT with jose (signature, iss, aud, typ, exp) and answers its sub
 *   GET /plain    answers without verifying anything
 *
 * It is given the testbed's public keys, issuer and the APIs' audiences, so it verifies the very
 * JWTs the mock APIs get: BENCH_FLOOR_JWKS (a JWKS), BENCH_FLOOR_ISSUERS and BENCH_FLOOR_AUDIENCES
 * (JSON arrays).
 *   node bench/servers/koa-jose-floor.ts   → prints "listening <port>"
 */
import Router from '@koa/router';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import Koa from 'koa';
import { listenHttp } from '../../src/http/http-server.ts';

const jwks = createLocalJWKSet(JSON.parse(process.env.BENCH_FLOOR_JWKS ?? '{"keys":[]}') as JSONWebKeySet);
const issuer = JSON.parse(process.env.BENCH_FLOOR_ISSUERS ?? '[]') as string[];
const audience = JSON.parse(process.env.BENCH_FLOOR_AUDIENCES ?? '[]') as string[];

const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
const router = new Router();
router.get('/verify', async (ctx) => {
  const token = bearer(ctx.get('authorization'));
  if (!token) return ctx.throw(401);
  try {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['RS256', 'ES256'] });
    ctx.body = { sub: payload.sub };
  } catch {
    ctx.throw(401);
  }
});
router.get('/plain', (ctx) => {
  if (!bearer(ctx.get('authorization'))) ctx.throw(401);
  ctx.body = { sub: 'anonymous' };
});
const app = new Koa();
app.use(router.routes());
const served = await listenHttp(0, '127.0.0.1', app.callback());
process.stdout.write(`listening ${served.port}\n`);
process.on('SIGTERM', () => {
  void served.close().then(() => process.exit(0));
});
