/**
 * RSA keys made ahead of need. A 2048-bit RSA key takes 40–120 ms to generate (EC and Ed25519 keys
 * well under 1 ms), and a testbed that is given no keys needs two: RS256 signing (the ID-token
 * default every OpenID client expects) and RSA-OAEP-256 decryption of request objects. Test runners
 * load the library afresh for every test file (jest's and vitest's module registries, node:test's
 * processes), so a pool in memory would not outlive the file that made it: the pool is a directory
 * of the user's cache, shared by every process. Each pair is taken once — an atomic rename claims
 * it — so every testbed still has keys of its own; what is taken is made again in the background.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** The two RSA keys of a testbed. */
export interface RsaKeys {
  signing: JWK;
  encryption: JWK;
}

/** Pairs kept ready: enough for a test suite's burst of testbeds (a pair is about 3.5 kB). */
export const KEY_POOL_SIZE = 32;

const ENTRY = /^[A-Za-z0-9_-]{16}\.json$/;

/** Where the pool is kept unless told otherwise: `$XDG_CACHE_HOME/oidc-testbed/rsa-keys` (else ~/.cache). */
export function defaultKeyPoolDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'oidc-testbed', 'rsa-keys');
}

export async function generateRsaKeys(): Promise<RsaKeys> {
  const [signing, encryption] = await Promise.all([
    generateJwk('RS256', 'sig', 'rs256', { modulusLength: 2048 }),
    generateJwk('RSA-OAEP-256', 'enc', 'enc-rsa-oaep-256', { modulusLength: 2048 }),
  ]);
  return { signing, encryption };
}

/** A private JWK with `use`, `alg` and a kid of `kidPrefix` and its thumbprint (RFC 7638). */
export async function generateJwk(
  alg: string,
  use: 'sig' | 'enc',
  kidPrefix: string,
  options: { crv?: string; modulusLength?: number } = {},
  jwkAlg = alg,
): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `${kidPrefix}-${(await calculateJwkThumbprint(jwk)).slice(0, 8)}`, use, alg: jwkAlg };
}

const poolsByDir = new Map<string, RsaKeyPool>();

/**
 * The pool in `dir` (default: the user's), one per directory in a process, so that testbeds started
 * one after another refill it with one worker, not one each.
 */
export function keyPoolAt(dir: string = defaultKeyPoolDir()): RsaKeyPool {
  let pool = poolsByDir.get(dir);
  if (!pool) poolsByDir.set(dir, (pool = new RsaKeyPool(dir)));
  return pool;
}

/**
 * A pool in `dir` kept at `size` pairs. `take()` never fails for the pool's sake: an empty, missing
 * or unwritable pool, or a damaged entry, means the pair is generated on the spot.
 */
export class RsaKeyPool {
  readonly dir: string;
  readonly size: number;
  #refillStarted = false;

  constructor(dir: string = defaultKeyPoolDir(), size: number = KEY_POOL_SIZE) {
    this.dir = dir;
    this.size = size;
  }

  async take(): Promise<RsaKeys> {
    const claimed = this.#claim();
    this.#refill();
    return claimed ?? generateRsaKeys();
  }

  /** Entries ready now. */
  count(): number {
    return readyEntries(this.dir).length;
  }

  #claim(): RsaKeys | undefined {
    for (const name of readyEntries(this.dir)) {
      const claimedPath = join(this.dir, `${name}.${process.pid}-${randomBytes(4).toString('hex')}.taken`);
      try {
        renameSync(join(this.dir, name), claimedPath);
      } catch {
        continue; // another testbed took it first
      }
      try {
        const keys = JSON.parse(readFileSync(claimedPath, 'utf8')) as RsaKeys;
        if (isRsaPrivateJwk(keys.signing) && isRsaPrivateJwk(keys.encryption)) return keys;
      } catch {
        // a damaged entry is dropped; the next one is tried
      } finally {
        rmSync(claimedPath, { force: true });
      }
    }
    return undefined;
  }

  /**
   * Refilled by a process of its own, which outlives this one if need be: a refill is seconds of
   * CPU on a machine's first use, and neither a worker thread (Node aborts when one is stopped at
   * exit in the middle of generating an RSA key) nor this thread (it would hold the process open)
   * may do it. One filler at a time for the directory: it holds the lock file while it works. It
   * starts only once the pool is down to a quarter, so that a burst of starts is not slowed by it,
   * and runs at the lowest priority, giving way to the tests it makes keys for.
   */
  #refill(): void {
    if (this.#refillStarted || readyEntries(this.dir).length > this.size / 4) return;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch {
      return; // no pool here: every testbed generates its keys
    }
    if (fillerAtWork(this.dir)) return;
    this.#refillStarted = true;
    const filler = spawn(process.execPath, [fileURLToPath(import.meta.url), FILL_COMMAND, this.dir, String(this.size)], {
      detached: true,
      stdio: 'ignore',
    });
    filler.on('error', () => {}); // nothing is lost: the pool stays as it is
    try {
      if (filler.pid) setPriority(filler.pid, 19);
    } catch {
      // a system without priorities: the filler runs as it is
    }
    filler.once('exit', () => {
      this.#refillStarted = false;
    });
    filler.unref();
  }
}

const FILL_COMMAND = 'oidc-testbed-fill-key-pool';
const LOCK = 'fill.lock';
/** A lock the filler has not touched for this long is left over from a filler that died. */
const STALE_LOCK_MS = 30_000;

function fillerAtWork(dir: string): boolean {
  try {
    return Date.now() - statSync(join(dir, LOCK)).mtimeMs < STALE_LOCK_MS;
  } catch {
    return false;
  }
}

function takeLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes pairs until the pool holds `size`; each is written aside and renamed in, so no reader sees
 * half of one. Another filler holding a fresh lock means there is nothing to do.
 */
async function fill(dir: string, size: number): Promise<void> {
  const lock = join(dir, LOCK);
  if (!takeLock(lock)) {
    if (fillerAtWork(dir)) return;
    rmSync(lock, { force: true }); // left by a filler that died
    if (!takeLock(lock)) return;
  }
  try {
    dropLeftovers(dir);
    while (readyEntries(dir).length < size) {
      const keys = await generateRsaKeys();
      const name = `${randomBytes(12).toString('base64url')}.json`;
      const partial = join(dir, `${name}.partial`);
      writeFileSync(partial, JSON.stringify(keys), { mode: 0o600 });
      renameSync(partial, join(dir, name));
      const now = new Date();
      utimesSync(lock, now, now);
    }
  } finally {
    rmSync(lock, { force: true });
  }
}

/** What a process that exited mid-write or mid-claim left behind (not entries: no one reads them). */
function dropLeftovers(dir: string): void {
  const aMinuteAgo = Date.now() - 60_000;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.partial') && !name.endsWith('.taken')) continue;
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs < aMinuteAgo) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
}

function readyEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => ENTRY.test(name));
  } catch {
    return [];
  }
}

function isRsaPrivateJwk(jwk: JWK | undefined): boolean {
  return (
    jwk?.kty === 'RSA' && ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'kid'].every((member) => typeof jwk[member as keyof JWK] === 'string')
  );
}

// `node key-pool.ts oidc-testbed-fill-key-pool DIR SIZE`: the filler that #refill() starts.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === FILL_COMMAND) {
  await fill(process.argv[3], Number(process.argv[4]));
}
