/**
 * The JOSE vocabulary every part of the testbed shares: which algorithms it signs and accepts, the
 * public part of a key, the shape of a JWT. A leaf.
 */
import type { JWK } from 'jose';

/** Every asymmetric JWS algorithm (RFC 7518 §3.1, RFC 8037): never `none`, never HMAC (a public key is no secret). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'Ed25519',
  'EdDSA',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS: ReadonlySet<string> = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** The public part of a key. */
export function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_JWK_MEMBERS.has(member))) as JWK;
}

/** A JWS compact serialization by shape (three base64url parts; the signature may be empty). */
export function looksLikeJwt(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value);
}
