import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

/** What oidc-provider signs through its IdToken model (`lib/models/id_token.js` `issue({ use })`). */
export type SignedJwtUse = 'idtoken' | 'logout' | 'userinfo' | 'introspection' | 'authorization';

export interface IssuedJwt {
  use: SignedJwtUse;
  /** The compact JWS (or JWE, when the client asked for encryption) as the engine made it. */
  jwt: string;
  /** The request it is issued in (absent for back-channel logout tokens outside a request). */
  ctx: KoaContextWithOIDC | undefined;
}

/** Replaces a signed JWT before it leaves: the one re-sign hook point of a misbehaving issuer. */
export type ReissueJwt = (issued: IssuedJwt) => string | Promise<string>;

/**
 * Passes every JWT this provider signs — ID tokens wherever issued (token, authorization, refresh,
 * CIBA, device), logout tokens, JARM responses, signed userinfo and introspection — through
 * `reissue`. Each Provider instance has its own model classes, so the change stays on this issuer.
 */
export function reissueSignedJwts(provider: Provider, reissue: ReissueJwt): void {
  const prototype = provider.IdToken.prototype as unknown as { issue(options?: { use?: SignedJwtUse }): Promise<string> };
  const issue = prototype.issue;
  prototype.issue = async function issueThenReissue(this: { ctx?: KoaContextWithOIDC }, options) {
    const jwt = await issue.call(this, options);
    return reissue({ use: options?.use ?? 'idtoken', jwt, ctx: this.ctx });
  };
}
