/** The ways the scenarios change what the engine made, built on the hook points (src/issuers/create-issuer.ts). */
import type { JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { RouteRewrite } from '../issuers/create-issuer.ts';
import { type Claims, type Header, isEncrypted, readJwt, signJwt } from '../jose/tamper.ts';
import type { IssuedJwt, ReissueJwt, SignedJwtUse } from '../provider/engine/index.ts';
import type { IssuerKeys } from '../provider/keys.ts';
import type { Judge, RunContext } from './scenario.ts';

/** The private key among the run's keys that signed `header` (same `kid`), else the first for its `alg`. */
export function signingKeyOf(keys: IssuerKeys, header: Header): JWK {
  const key =
    keys.signing.find((jwk) => header.kid !== undefined && jwk.kid === header.kid) ?? keys.signing.find((jwk) => jwk.alg === header.alg);
  if (!key) throw new Error(`the scenario has no key for ${String(header.alg)}`);
  return key;
}

/** The private key of the run for `alg` (its `kid` published in the run's JWKS). */
export function keyForAlg(keys: IssuerKeys, alg: string): JWK {
  const key = keys.signing.find((jwk) => jwk.alg === alg);
  if (!key) throw new Error(`the scenario has no ${alg} key`);
  return key;
}

/**
 * A bad ID-token signature: from the authorization endpoint a correct RP calls nothing more; from
 * the token endpoint (TLS) checking it is optional, so userinfo after it makes the run `skipped`.
 */
export const badSignatureJudging = {
  forbidden: (issued: IssuedJwt) => (isFrontChannel(issued.ctx) ? ['token', ...USES_OF_TOKENS] : []),
  optional: (issued: IssuedJwt) => (isFrontChannel(issued.ctx) ? [] : USES_OF_TOKENS),
};

/**
 * What an RP does with the tokens it was given: UserInfo and the mock APIs (the OIDF FAPI 2.0 RP
 * tests count a resource call like a userinfo one).
 */
export const USES_OF_TOKENS: readonly string[] = ['userinfo', 'profile-api', 'directory-api'];

const isFrontChannel = (ctx: KoaContextWithOIDC | undefined) => ctx?.oidc?.route === 'authorization' || ctx?.oidc?.route === 'resume';

/** Engine routes where ID tokens leave, and what a correct RP calls no more once it got a bad one. */
export function forbiddenAfterIdToken(ctx: KoaContextWithOIDC | undefined): readonly string[] {
  const route = ctx?.oidc?.route;
  return route === 'authorization' || route === 'resume' ? ['token', ...USES_OF_TOKENS] : USES_OF_TOKENS;
}

export type JwtChange = (jwt: { header: Header; claims: Claims }, issued: IssuedJwt) => void;

/**
 * A re-sign hook for the JWTs of `use`: `change` edits the decoded header and claims in place, and
 * the result is signed again with the run's key that signed the original (the same `kid`), unless
 * `sign` says otherwise. `applies` narrows it (e.g. to refresh responses). Encrypted tokens pass.
 */
export function reissue(
  run: RunContext,
  use: SignedJwtUse,
  change: JwtChange,
  options: {
    applies?: (issued: IssuedJwt) => boolean;
    sign?: (jwt: { header: Header; claims: Claims }, issued: IssuedJwt) => string | Promise<string>;
    forbidden?: (issued: IssuedJwt) => readonly string[];
    optional?: (issued: IssuedJwt) => readonly string[];
  } = {},
): ReissueJwt {
  return async (issued) => {
    if (issued.use !== use || isEncrypted(issued.jwt) || (options.applies && !options.applies(issued))) return issued.jwt;
    const jwt = readJwt(issued.jwt);
    change(jwt, issued);
    const out = options.sign ? await options.sign(jwt, issued) : await signJwt(jwt.header, jwt.claims, signingKeyOf(run.keys, jwt.header));
    run.served(
      `${use} at ${issued.ctx?.oidc?.route ?? 'back channel'}`,
      options.forbidden?.(issued) ?? [],
      options.optional?.(issued) ?? [],
    );
    return out;
  };
}

/** The value of a redirect's parameter (query, or fragment for implicit and hybrid responses). */
export function redirectParameters(location: string): { url: URL; params: URLSearchParams; inFragment: boolean } {
  const url = new URL(location);
  const inFragment = url.hash.length > 1;
  return { url, params: new URLSearchParams(inFragment ? url.hash.slice(1) : url.search), inFragment };
}

/** The redirect with `params` written back where they came from. */
export function withParameters({ url, params, inFragment }: ReturnType<typeof redirectParameters>): string {
  if (inFragment) url.hash = params.toString();
  else url.search = params.toString();
  return url.href;
}

/** A copy of a JSON answer body (the engine's objects, its JWKS array among them, are never edited). */
export function cloneBody<T>(ctx: KoaContextWithOIDC): T | undefined {
  const body = ctx.body;
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return undefined;
  return structuredClone(body) as T;
}

export type Discovery = Record<string, unknown>;

/**
 * A rewrite of a route's 200 JSON answer, made on a copy (the engine's objects are never edited);
 * `change` returns false to leave the answer as the engine made it.
 */
export function rewriteJson(change: (body: Record<string, unknown>, ctx: KoaContextWithOIDC) => unknown): RouteRewrite {
  return async (ctx) => {
    const body = cloneBody<Record<string, unknown>>(ctx);
    if (!body || ctx.status !== 200 || change(body, ctx) === false) return;
    ctx.body = body;
  };
}

/** The one route's answer rewritten (a scenario's `respond`). */
export function rewriteAnswerOf(route: string, change: Parameters<typeof rewriteJson>[0]): ReadonlyMap<string, RouteRewrite> {
  return new Map([[route, rewriteJson(change)]]);
}

/** A discovery rewrite, on a copy of the engine's answer. */
export const rewriteDiscovery = (change: (metadata: Discovery) => void): RouteRewrite => rewriteJson(change);

/** Completes at a UserInfo call that succeeded. */
export const userinfoCompletes: Judge = {
  kind: 'complete',
  completes: 'a successful userinfo request',
  test: (request) => request.route === 'userinfo' && request.status === 200,
};
