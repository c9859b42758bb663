/**
 * RSA keys made ahead of need: a testbed given no keys takes a pair from the user's pool, and every
 * testbed still has keys of its own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { RsaKeyPool, type RsaKeys } from '../../src/provider/key-pool.ts';
import { discover, signIn } from '../support/openid.ts';
import { SUITE_FIXTURE } from '../support/store.ts';

const scratch = mkdtempSync(join(tmpdir(), 'oidc-testbed-key-pool-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(scratch, `pool-${(dirs += 1)}`);

/** Waits (without a timing assertion) until the refill worker has made the pool whole. */
async function filled(pool: RsaKeyPool): Promise<void> {
  while (pool.count() < pool.size) await new Promise((resolve) => setTimeout(resolve, 25));
}

function expectRsaPair(keys: RsaKeys): void {
  expect(keys.signing).toMatchObject({
    kty: 'RSA',
    alg: 'RS256',
    use: 'sig',
    kid: expect.stringMatching(/^rs256-/),
    d: expect.any(String),
  });
  expect(keys.encryption).toMatchObject({
    kty: 'RSA',
    alg: 'RSA-OAEP-256',
    use: 'enc',
    kid: expect.stringMatching(/^enc-rsa-oaep-256-/),
    d: expect.any(String),
  });
  expect(Buffer.from(keys.signing.n!, 'base64url').length).toBe(256); // 2048 bits
}

describe('the RSA key pool', () => {
  it('generates on the spot when empty, then refills itself in the background', async () => {
    const pool = new RsaKeyPool(freshDir(), 3);
    expect(pool.count()).toBe(0);
    expectRsaPair(await pool.take());
    await filled(pool);
    expect(pool.count()).toBe(3);
  }, 30_000);

  it('hands out each pair once, also to pools of other processes on the same directory', async () => {
    const dir = freshDir();
    const pool = new RsaKeyPool(dir, 6);
    await pool.take();
    await filled(pool);
    const taker = `
      import { RsaKeyPool } from ${JSON.stringify(new URL('../../src/provider/key-pool.ts', import.meta.url).href)};
      const keys = await new RsaKeyPool(${JSON.stringify(dir)}, 0).take();
      console.log(keys.signing.kid, keys.encryption.kid);`;
    const inOtherProcesses = Array.from({ length: 3 }, async () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', taker], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      await once(child, 'close');
      return out.trim().split(' ');
    });
    const here = Array.from({ length: 3 }, async () => {
      const keys = await new RsaKeyPool(dir, 0).take();
      return [keys.signing.kid!, keys.encryption.kid!];
    });
    const kids = (await Promise.all([...inOtherProcesses, ...here])).flat();
    expect(kids).toHaveLength(12);
    expect(new Set(kids).size).toBe(12);
    expect(pool.count()).toBe(0);
  }, 60_000);

  it('drops a damaged entry and takes the next one', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'AAAAAAAAAAAAAAAA.json'), '{"signing": {"kty": "RSA"');
    writeFileSync(join(dir, 'BBBBBBBBBBBBBBBB.json'), JSON.stringify({ signing: { kty: 'EC' }, encryption: {} }));
    expectRsaPair(await new RsaKeyPool(dir, 0).take());
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);

  it('without a usable directory, every pair is generated on the spot', async () => {
    const file = join(scratch, 'not-a-directory');
    writeFileSync(file, '');
    expectRsaPair(await new RsaKeyPool(join(file, 'pool'), 3).take());
  }, 30_000);
});

describe('testbeds given no keys', () => {
  const testbeds: Testbed[] = [];
  afterAll(async () => {
    await Promise.all(testbeds.map((testbed) => testbed.stop()));
  });

  it('each have keys of their own: an ID token of one does not verify at another', async () => {
    const keyPool = freshDir();
    for (let i = 0; i < 2; i += 1) testbeds.push(await startTestbed({ port: 0, fixture: SUITE_FIXTURE, apis: false, keyPool }));
    const [a, b] = testbeds;
    const { tokens } = await signIn(await discover(a, 'node-openid-client', 'password'), {
      redirect_uri: 'http://localhost:3000/callback',
      scope: 'openid',
    });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');

    await expect(jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(a.urls.jwks)), { issuer: a.issuer })).resolves.toBeDefined();
    await expect(jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(b.urls.jwks)))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    const kidsOf = async (testbed: Testbed) =>
      ((await (await fetch(testbed.urls.jwks)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    const [kidsA, kidsB] = await Promise.all([kidsOf(a), kidsOf(b)]);
    expect(kidsA.filter((kid) => kidsB.includes(kid))).toEqual([]);
  }, 30_000);
});
