import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Store } from '../store/store.ts';

/** Private signing keys (a JWKS) and the cookie-signing keys of an issuer. */
export interface IssuerKeys {
  signing: JWK[];
  cookies: string[];
}

/** Where `oidc-testbed start` keeps generated keys unless told otherwise. */
export function defaultKeysFile(): string {
  const stateHome = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(stateHome, 'oidc-testbed', 'keys.json');
}

const GENERATED: ReadonlyArray<{ alg: string; options?: { modulusLength?: number; crv?: string } }> = [
  { alg: 'RS256', options: { modulusLength: 2048 } },
  { alg: 'ES256' },
  { alg: 'EdDSA', options: { crv: 'Ed25519' } },
];

/** One key per algorithm family: RS256 (ID token default), ES256 (access token default), Ed25519. */
export async function generateSigningKeys(): Promise<JWK[]> {
  return Promise.all(GENERATED.map(async ({ alg, options }) => {
    const { privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = `${alg === 'EdDSA' ? 'ed25519' : alg.toLowerCase()}-${(await calculateJwkThumbprint(jwk)).slice(0, 8)}`;
    return { ...jwk, kid, use: 'sig', alg: alg === 'EdDSA' ? 'Ed25519' : alg };
  }));
}

function generateCookieKeys(): string[] {
  return [randomBytes(32).toString('base64url')];
}

/**
 * Keys from the fixture win. Otherwise, with a `shared` store (Redis), the first replica to start
 * generates them and stores them once (SET NX): every replica, and every restart, signs and checks
 * cookies with the same keys. Otherwise they are read from `file`, or generated and written there
 * so a restart keeps issued tokens and sessions valid; `file: false` keeps them in memory.
 */
export async function resolveKeys(fromFixture: Partial<IssuerKeys>, file: string | false, shared?: Store): Promise<IssuerKeys> {
  if (fromFixture.signing && fromFixture.cookies) return { signing: fromFixture.signing, cookies: fromFixture.cookies };
  if (shared) {
    const stored = await sharedKeys(shared);
    return { signing: fromFixture.signing ?? stored.signing, cookies: fromFixture.cookies ?? stored.cookies };
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
  const keys: IssuerKeys = {
    signing: fromFixture.signing ?? persisted.signing ?? await generateSigningKeys(),
    cookies: fromFixture.cookies ?? persisted.cookies ?? generateCookieKeys(),
  };
  if (file && (!persisted.signing || !persisted.cookies)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
  return keys;
}

const KEYS_DOCUMENT = 'keys';

async function sharedKeys(store: Store): Promise<IssuerKeys> {
  const text = await store.get(KEYS_DOCUMENT)
    ?? await store.putIfAbsent(KEYS_DOCUMENT, JSON.stringify({ signing: await generateSigningKeys(), cookies: generateCookieKeys() }));
  const keys = JSON.parse(text) as Partial<IssuerKeys>;
  if (!Array.isArray(keys.signing) || keys.signing.length === 0 || !Array.isArray(keys.cookies) || keys.cookies.length === 0) {
    throw new Error(`the keys stored in the ${store.kind} store are not a { signing, cookies } document: delete it (key "…state:${KEYS_DOCUMENT}") to generate new keys`);
  }
  return keys as IssuerKeys;
}
