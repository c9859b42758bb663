import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JWK } from 'jose';
import type { Store } from '../store/store.ts';
import { generateJwk, generateRsaKeys, type RsaKeyPool, type RsaKeys } from './key-pool.ts';

/** Private signing keys, private decryption keys (request objects) and cookie-signing keys of an issuer. */
export interface IssuerKeys {
  signing: JWK[];
  encryption: JWK[];
  cookies: string[];
}

/** Where `oidc-testbed start` keeps generated keys unless told otherwise. */
export function defaultKeysFile(): string {
  const stateHome = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(stateHome, 'oidc-testbed', 'keys.json');
}

/** Fresh signing keys: RS256 (the ID-token default), ES256 (the access-token default) and Ed25519. */
export async function generateSigningKeys(): Promise<JWK[]> {
  return (await freshKeys()).signing;
}

/**
 * Every generated key: signing (RS256, ES256, Ed25519) and the keys clients encrypt request objects
 * to (RFC 9101 §6.1: RSA-OAEP-256, ECDH-ES P-256). The RSA ones come from `rsa` (a pool's), else are
 * made now; the others take well under a millisecond.
 */
async function freshKeys(rsa?: RsaKeys | Promise<RsaKeys>): Promise<Pick<IssuerKeys, 'signing' | 'encryption'>> {
  const [rsaKeys, ecdhEs] = await Promise.all([rsa ?? generateRsaKeys(), generateJwk('ECDH-ES', 'enc', 'enc-ecdh-es', { crv: 'P-256' })]);
  return { signing: await signingKeysWith(rsaKeys.signing), encryption: [rsaKeys.encryption, ecdhEs] };
}

/** The signing keys of an issuer around its RSA key: RS256, ES256 (fresh) and Ed25519 (fresh). */
export async function signingKeysWith(rs256: JWK): Promise<JWK[]> {
  const [es256, ed25519] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('Ed25519')]);
  return [rs256, es256, ed25519];
}

/** The algorithms the testbed makes signing keys for (a key rotation's choice). */
export const SIGNING_KEY_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
export type SigningKeyAlgorithm = (typeof SIGNING_KEY_ALGORITHMS)[number];

/**
 * A fresh private signing key whose JWK `alg` is `alg`: oidc-provider signs for an algorithm only
 * with a key of that very `alg` (an `EdDSA` key does not sign `Ed25519` and the other way round).
 */
export function generateSigningKey(alg: SigningKeyAlgorithm): Promise<JWK> {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return generateJwk(alg, 'sig', alg.toLowerCase(), { modulusLength: 2048 });
    case 'ES256':
      return generateJwk('ES256', 'sig', 'es256');
    case 'EdDSA':
    case 'Ed25519':
      return generateJwk('EdDSA', 'sig', 'ed25519', { crv: 'Ed25519' }, alg);
  }
}

/** A secret for `purpose` derived from the cookie keys: the same on every replica and restart. */
export function derivedSecret(keys: Pick<IssuerKeys, 'cookies'>, purpose: string): Buffer {
  return createHash('sha256').update(`oidc-testbed ${purpose}\0`).update(keys.cookies[0]).digest();
}

function generateCookieKeys(): string[] {
  return [randomBytes(32).toString('base64url')];
}

/** Where keys come from besides the fixture (see `resolveKeys`). */
export interface KeySources {
  /** A file that keeps generated keys across restarts; `false` keeps them in memory. */
  file: string | false;
  /** A store shared by replicas (Redis), which keeps the keys instead of the file. */
  shared?: Store;
  /** RSA keys made ahead of need; without one they are generated on the spot. */
  pool?: RsaKeyPool;
}

/**
 * Keys from the fixture win. Otherwise, with a `shared` store (Redis), the first replica to start
 * generates them and stores them once (SET NX): every replica, and every restart, signs and checks
 * cookies with the same keys. Otherwise they are read from `file`, or generated and written there
 * so a restart keeps issued tokens and sessions valid; `file: false` keeps them in memory.
 */
export async function resolveKeys(fromFixture: Partial<IssuerKeys>, { file, shared, pool }: KeySources): Promise<IssuerKeys> {
  if (fromFixture.signing && fromFixture.encryption && fromFixture.cookies) {
    return { signing: fromFixture.signing, encryption: fromFixture.encryption, cookies: fromFixture.cookies };
  }
  // Generated at most once, and only when some part is missing.
  let fresh: ReturnType<typeof freshKeys> | undefined;
  const generated = () => (fresh ??= freshKeys(pool?.take()));
  if (shared) {
    const stored = await sharedKeys(shared, generated);
    return {
      signing: fromFixture.signing ?? stored.signing,
      encryption: fromFixture.encryption ?? stored.encryption,
      cookies: fromFixture.cookies ?? stored.cookies,
    };
  }
  let persisted: Partial<IssuerKeys> = {};
  if (file) {
    try {
      persisted = JSON.parse(readFileSync(file, 'utf8')) as IssuerKeys;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`${file}: cannot read the persisted keys (${(error as Error).message}); delete the file to generate new keys`);
      }
    }
  }
  const [signing, encryption] = await Promise.all([
    fromFixture.signing ?? persisted.signing ?? generated().then((keys) => keys.signing),
    fromFixture.encryption ?? persisted.encryption ?? generated().then((keys) => keys.encryption),
  ]);
  const keys: IssuerKeys = { signing, encryption, cookies: fromFixture.cookies ?? persisted.cookies ?? generateCookieKeys() };
  // A file from an older version may lack a part: complete it, keeping what is there.
  if (file && (!persisted.signing || !persisted.encryption || !persisted.cookies)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify({ ...persisted, ...keys }, null, 2)}\n`, { mode: 0o600 });
  }
  return keys;
}

const KEYS_DOCUMENT = 'keys';

const ENCRYPTION_KEYS_DOCUMENT = 'encryption-keys';

async function sharedKeys(store: Store, generated: () => ReturnType<typeof freshKeys>): Promise<IssuerKeys> {
  const text =
    (await store.get(KEYS_DOCUMENT)) ??
    (await store.putIfAbsent(KEYS_DOCUMENT, JSON.stringify({ signing: (await generated()).signing, cookies: generateCookieKeys() })));
  const keys = JSON.parse(text) as Partial<IssuerKeys>;
  if (!Array.isArray(keys.signing) || keys.signing.length === 0 || !Array.isArray(keys.cookies) || keys.cookies.length === 0) {
    throw new Error(
      `the keys stored in the ${store.kind} store are not a { signing, cookies } document: delete it (key "…state:${KEYS_DOCUMENT}") to generate new keys`,
    );
  }
  // A document of its own, so that a store written by an older version keeps its signing keys.
  const encryption = JSON.parse(
    (await store.get(ENCRYPTION_KEYS_DOCUMENT)) ??
      (await store.putIfAbsent(ENCRYPTION_KEYS_DOCUMENT, JSON.stringify((await generated()).encryption))),
  ) as JWK[];
  return { signing: keys.signing, encryption, cookies: keys.cookies };
}
