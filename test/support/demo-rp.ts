/** The demo RP's private keys (fixtures/demo-rp-keys.json), as the default fixture's jar-client, jwt-client and fapi2-client hold them. */
import { readFileSync } from 'node:fs';
import { type CryptoKey, importJWK, type JWK } from 'jose';

const KEYS = JSON.parse(readFileSync(new URL('../../fixtures/demo-rp-keys.json', import.meta.url), 'utf8')) as {
  keys: Array<JWK & { kid: string; use: string; alg: string }>;
};

export interface DemoKey {
  key: CryptoKey;
  kid: string;
  alg: string;
}

async function demoKey(use: 'sig' | 'enc'): Promise<DemoKey> {
  const jwk = KEYS.keys.find((candidate) => candidate.use === use)!;
  return { key: (await importJWK(jwk, jwk.alg)) as CryptoKey, kid: jwk.kid, alg: jwk.alg };
}

/** ES256: request objects and private_key_jwt client assertions. */
export const demoSigningKey = () => demoKey('sig');
/** RSA-OAEP-256: encrypted ID tokens, userinfo, introspection and JARM responses. */
export const demoDecryptionKey = () => demoKey('enc');
