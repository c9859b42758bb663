/**
 * Changing one thing in a JWT on purpose, as the OpenID conformance suite does for its RP tests:
 * claims or header members re-signed with a given key, a signature corrupted, an unsecured copy.
 * Everything not changed stays byte-identical in meaning (same header members, same claims).
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';

export type Claims = JWTPayload & Record<string, unknown>;
export type Header = JWTHeaderParameters & Record<string, unknown>;

/** A JWS compact serialization's parts, decoded (not verified). */
export function readJwt(jwt: string): { header: Header; claims: Claims } {
  return { header: decodeProtectedHeader(jwt) as Header, claims: decodeJwt(jwt) as Claims };
}

/** Whether a compact serialization is a JWE (5 parts): encrypted tokens are left alone. */
export function isEncrypted(jwt: string): boolean {
  return jwt.split('.').length === 5;
}

/** Signs `claims` with exactly `header` (its `alg` decides the algorithm) and a private JWK or a secret. */
export async function signJwt(header: Header, claims: Claims, key: JWK | Uint8Array): Promise<string> {
  const signingKey = key instanceof Uint8Array ? key : await importJWK(key, header.alg);
  return new SignJWT(claims).setProtectedHeader(header).sign(signingKey);
}

/** The signature's bytes XOR 0x5A (the suite's `AbstractInvalidateJwsSignature`); header and payload unchanged. */
export function corruptSignature(jwt: string): string {
  const [header, payload, signature] = jwt.split('.');
  const bytes = Buffer.from(signature, 'base64url').map((byte) => byte ^ 0x5a);
  return `${header}.${payload}.${Buffer.from(bytes).toString('base64url')}`;
}

/** `{"alg":"none"}` and an empty signature (RFC 7519 §6), with `typ` kept when the original had one. */
export function unsecuredJwt(claims: Claims, typ?: string): string {
  const encoded = new UnsecuredJWT(claims).encode();
  if (!typ) return encoded;
  const [, payload] = encoded.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ })).toString('base64url')}.${payload}.`;
}
