/**
 * RSA signing keys for scenario runs, made ahead in this process (RSA generation takes 50–250 ms; on
 * libuv's thread pool it does not block requests). Runs do not draw on the on-disk key pool, which
 * is there for testbed starts. The reservoir starts filling at the first run a testbed makes, so a
 * testbed that never serves a scenario generates nothing.
 */
import type { JWK } from 'jose';
import { generateJwk } from '../provider/key-pool.ts';
import { type IssuerKeys, signingKeysWith } from '../provider/keys.ts';

const generateRs256 = () => generateJwk('RS256', 'sig', 'rs256', { modulusLength: 2048 });

export class RunKeyReservoir {
  readonly #size: number;
  readonly #ready: JWK[] = [];
  #filling = false;
  #closed = false;

  constructor(size = 8) {
    this.#size = size;
  }

  /**
   * Keys of a new run: its own RS256 (from the reservoir, else made now), ES256 and Ed25519 signing
   * keys; the decryption and cookie keys of the issuer it runs under (no scenario is about them).
   */
  async keysFor(main: Pick<IssuerKeys, 'encryption' | 'cookies'>): Promise<IssuerKeys> {
    const rs256 = this.#ready.shift();
    this.#fill();
    return { signing: await signingKeysWith(rs256 ?? (await generateRs256())), encryption: main.encryption, cookies: main.cookies };
  }

  close(): void {
    this.#closed = true;
  }

  #fill(): void {
    if (this.#filling || this.#closed) return;
    this.#filling = true;
    void (async () => {
      try {
        while (!this.#closed && this.#ready.length < this.#size) this.#ready.push(await generateRs256());
      } finally {
        this.#filling = false;
      }
    })();
  }
}
