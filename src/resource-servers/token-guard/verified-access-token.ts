/** The caller as a validated token describes it. */
export interface VerifiedAccessToken {
  format: 'jwt' | 'opaque';
  sub?: string;
  client_id?: string;
  /** `jti` of a JWT; for an opaque token (whose value is its id) a hash prefix, safe to log. */
  tokenId: string;
  scopes: ReadonlySet<string>;
  /** Expiry, epoch seconds. */
  exp: number;
  /** RFC 9449 §6: the JWK thumbprint the token is bound to, if DPoP-bound. */
  jkt?: string;
  /** `iss`: which trusted issuer issued it. */
  issuer: string;
}
