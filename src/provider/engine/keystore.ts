/**
 * The engine's signing keys, changed while it runs (a key rotation, src/control/key-rotation.ts).
 * oidc-provider builds its keystore once from the `jwks` option (lib/helpers/initialize_keystore.js)
 * into two internals of the Provider instance: `keystore`, the private keys, which signs for an
 * algorithm with the first key `selectForSign({ alg })` finds (a stable sort, so list order is
 * preference), and `jwks.keys`, the public JWKS its jwks route reads on every request. Both are
 * replaced here, on one provider instance only; keys that are not for signing (request-object
 * decryption) stay as they are, after the signing keys as at start.
 */
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Provider } from 'oidc-provider';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/** The part of oidc-provider's KeyStore (lib/helpers/keystore.js) used here. */
interface EngineKeyStore extends Iterable<JWK> {
  add(key: JWK): void;
  clear(): void;
}

interface EngineKeys {
  keystore: EngineKeyStore;
  jwks: { keys: JWK[] };
}

function engineKeys(provider: Provider): EngineKeys {
  const internals = instance(provider) as Partial<EngineKeys> | undefined;
  const { keystore, jwks } = internals ?? {};
  if (typeof keystore?.clear !== 'function' || typeof keystore.add !== 'function' || !Array.isArray(jwks?.keys)) {
    throw new Error('oidc-provider keeps its keystore elsewhere now (lib/helpers/initialize_keystore.js): key rotation needs adapting');
  }
  return internals as EngineKeys;
}

const isSigningKey = (key: JWK) => key.use !== 'enc';

/** Copies of the private signing keys the engine signs with, most preferred first (with the `kid`, `alg` and `use` it gave them). */
export function engineSigningKeys(provider: Provider): JWK[] {
  return [...engineKeys(provider).keystore].filter(isSigningKey).map((key) => structuredClone(key));
}

/**
 * Makes `signing` (private JWKs, each with a `kid` and an `alg`) the keys the engine signs with and
 * publishes, in that order of preference, in place of its signing keys.
 */
export function replaceEngineSigningKeys(provider: Provider, signing: readonly JWK[]): void {
  const internals = engineKeys(provider);
  const others = [...internals.keystore].filter((key) => !isSigningKey(key));
  const keys = [...signing.map((key) => structuredClone(key)), ...others];
  const kids = new Set<string>();
  for (const key of keys) {
    if (typeof key.kid !== 'string' || typeof key.alg !== 'string' || kids.has(key.kid)) {
      throw new Error(`every signing key needs an alg and a kid of its own (${String(key.kid)})`);
    }
    kids.add(key.kid);
  }
  internals.keystore.clear();
  for (const key of keys) internals.keystore.add(key);
  // The members initialize_keystore.js publishes: nothing private.
  internals.jwks = {
    keys: keys.map((key) => ({
      kty: key.kty,
      use: key.use,
      key_ops: key.key_ops ? [...key.key_ops] : undefined,
      kid: key.kid,
      alg: key.alg,
      crv: key.crv,
      e: key.e,
      n: key.n,
      x: key.x,
      x5c: key.x5c ? [...key.x5c] : undefined,
      y: key.y,
    })),
  };
}

/**
 * A key set for jose's `jwtVerify` holding what the engine publishes now: a JWT this issuer
 * signed verifies while its key is in the JWKS, also across rotations.
 */
export function engineVerificationKeys(provider: Provider): JWTVerifyGetKey {
  let published: JWK[] | undefined;
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  return (header, token) => {
    const { keys } = engineKeys(provider).jwks;
    if (keys !== published || !keySet) {
      keySet = createLocalJWKSet({ keys });
      published = keys;
    }
    return keySet(header, token);
  };
}
