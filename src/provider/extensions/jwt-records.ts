/** A JWT access token's record, as oidc-provider's opaque format would have stored it. */
import { hash } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import type { AdapterPayload } from 'oidc-provider';

/** The key under which a JWT access token's record is stored. */
export function jwtAccessTokenHandle(jwt: string): string {
  return hash('sha256', jwt, 'base64url');
}

/**
 * A token record read back from a JWT's claims (the inverse of oidc-provider's JWT format); the
 * claims that are none of the model's fields are its `extra`. `state`: the fields no claim carries.
 */
export function recordFromClaims(kind: string, claims: JWTPayload, handle: string, state: Partial<AdapterPayload>): AdapterPayload {
  const { jti: _jti, sub: _sub, iss: _iss, iat, exp, client_id, aud, scope, cnf, authorization_details, ...extra } = claims;
  const confirmation = (cnf ?? {}) as { jkt?: string; 'x5t#S256'?: string };
  const record: Record<string, unknown> = { ...state, jti: handle, kind, iat, exp, clientId: client_id, aud, scope };
  if (confirmation.jkt) record.jkt = confirmation.jkt;
  if (confirmation['x5t#S256']) record['x5t#S256'] = confirmation['x5t#S256'];
  if (authorization_details) record.rar = authorization_details;
  if (Object.keys(extra).length > 0) record.extra = extra;
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record as AdapterPayload;
}

/** The `jti` of a JWT, not verified (to route a token to its record); undefined when it is no JWT. */
export function unverifiedJti(jwt: string): unknown {
  try {
    return decodeJwt(jwt).jti;
  } catch {
    return undefined;
  }
}
