/**
 * UserInfo (OpenID Connect Core §5.3) for access tokens a resource server was given in an OpenID
 * request, as Auth0 serves them (their `aud` lists the API and /userinfo), so an RP that signed in
 * with `audience` can call `/me` with its one access token (express-openid-connect's
 * `req.oidc.fetchUserInfo()`).
 *
 * The reading of RFC 8707: a resource that lists `openid` among its scopes declares the UserInfo
 * endpoint one of the resources its tokens are for. Such a token, minted in an OpenID request,
 * carries `openid` and the request's OpenID scopes beside the resource's (resources.ts), keeps the
 * API as its only `aud` (one audience per token, so an API comparing `aud` to a string still
 * accepts it), and is accepted here too. Any other resource token is for its resource only, as
 * oidc-provider reads RFC 8707, and `/me` refuses it (`invalid_token`).
 *
 * oidc-provider's userinfo refuses every token with an audience. The testbed hands it, in the
 * token's place, a userinfo token of the same grant, account, scope and lifetime (the token's
 * "userinfo twin"), made on first use and stored under a keyed hash of the token, so only its
 * holder can name it; the token is checked live (expiry, revocation, grant) on every call. The
 * claims per scope and grant, signed and encrypted answers and errors stay the engine's. A
 * sender-constrained (DPoP) token is left to the engine: its proof is bound to the token itself.
 */
import { createHmac } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { JwtAccessTokens } from './jwt-access-tokens.ts';

export interface UserinfoTwinOptions {
  provider: Provider;
  jwtAccessTokens: JwtAccessTokens;
  /** Keys the twins' handles (HMAC-SHA256). */
  key: Buffer;
}

export function userinfoForOpenIdResourceTokens({ provider, jwtAccessTokens, key }: UserinfoTwinOptions): Middleware {
  return async function userinfoForOpenIdResourceToken(ctx, next) {
    const presented = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'))?.[1];
    const token = presented ? await jwtAccessTokens.findLive(presented) : undefined;
    if (!presented || token?.kind !== 'AccessToken' || token.aud === undefined || !token.scopes.has('openid') || token.jkt) return next();
    const handle = createHmac('sha256', key).update(presented).digest('base64url');
    if (!(await provider.AccessToken.adapter.find(handle))) {
      const { accountId, grantId, gty, clientId, scope, claims, sessionUid, expiresWithSession, sid, exp } = token as typeof token & {
        clientId: string;
        expiresWithSession?: boolean;
      };
      const twin = new provider.AccessToken({
        accountId,
        grantId,
        gty,
        scope,
        claims,
        sessionUid,
        expiresWithSession,
        sid,
      } as ConstructorParameters<Provider['AccessToken']>[0]);
      // Its id is the handle (oidc-provider sets the format when it makes the id itself).
      Object.assign(twin, { jti: handle, format: 'opaque', clientId, exp });
      await twin.save();
    }
    ctx.req.headers.authorization = `Bearer ${handle}`;
    return next();
  };
}
