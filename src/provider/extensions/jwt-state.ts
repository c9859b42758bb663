/**
 * What a JWT access token carries in its `jti` (RFC 9068 §2.2 leaves it opaque) for the testbed to
 * rebuild its record (see jwt-access-tokens.ts): a client-credentials JWT's `jti` is the engine's
 * with the prefix `cc-`; a user's JWT's is its state, sealed with AES-256-GCM under a key derived
 * from the issuer's cookie keys (so every replica can open it), with the time it was issued.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { derivedSecret, type IssuerKeys } from '../keys.ts';

/** The `jti` prefix of a client-credentials JWT access token (see the module comment). */
export const CLIENT_CREDENTIALS_JTI_PREFIX = 'cc-';

/** The fields of a user's access-token record that its JWT's claims do not carry: sealed in its `jti`, in this order. */
export const USER_STATE_FIELDS = ['accountId', 'grantId', 'gty', 'sessionUid', 'expiresWithSession', 'sid', 'claims'] as const;

export function isClientCredentialsJti(jti: unknown): boolean {
  return typeof jti === 'string' && jti.startsWith(CLIENT_CREDENTIALS_JTI_PREFIX);
}

/** The key that seals a user's JWT state into its `jti`. */
export type JwtStateKey = Buffer;

/** An issuer's state key: derived from its cookie keys, so the same on every replica and restart. */
export function jwtStateKey(keys: Pick<IssuerKeys, 'cookies'>): JwtStateKey {
  return derivedSecret(keys, 'jwt-access-token-state');
}

/**
 * oidc-provider's `formats.customizers.jwt`: a client-credentials JWT's `jti` gets its prefix, a
 * user's JWT's `jti` becomes its sealed state (see the module comment).
 */
export function customizeJwtAccessToken(stateKey: JwtStateKey) {
  return (_ctx: unknown, token: { kind: string }, jwt: { payload: Record<string, unknown> }): void => {
    if (token.kind === 'ClientCredentials') {
      jwt.payload.jti = `${CLIENT_CREDENTIALS_JTI_PREFIX}${String(jwt.payload.jti)}`;
    } else if (token.kind === 'AccessToken') {
      const fields = token as unknown as Record<string, unknown>;
      jwt.payload.jti = sealState(stateKey, [Date.now(), ...USER_STATE_FIELDS.map((field) => fields[field] ?? null)]);
    }
  };
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM: IV, ciphertext, tag, base64url. */
function sealState(key: JwtStateKey, values: unknown[]): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(values), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return sealed.toString('base64url');
}

function openState(key: JwtStateKey, jti: string): unknown {
  try {
    const sealed = Buffer.from(jti, 'base64url');
    if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return JSON.parse(
      Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8'),
    );
  } catch {
    return undefined;
  }
}

/** A user's JWT state from its `jti`, or undefined when it was not sealed with this key. */
export function openJwtState(key: JwtStateKey, jti: unknown): (Record<string, unknown> & { issuedAt?: number }) | undefined {
  const values = typeof jti === 'string' ? openState(key, jti) : undefined;
  if (!Array.isArray(values) || values.length !== USER_STATE_FIELDS.length + 1) return undefined;
  const [issuedAt, ...fields] = values as [number, ...unknown[]];
  const state: Record<string, unknown> & { issuedAt?: number } = { issuedAt };
  USER_STATE_FIELDS.forEach((field, i) => {
    if (fields[i] !== null) state[field] = fields[i];
  });
  return state;
}
