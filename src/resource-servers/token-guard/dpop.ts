/**
 * DPoP proofs at a resource server (RFC 9449 §4.3 and §7): one proof per request, signed with the
 * public key it embeds, bound to this method and URL, recent, never replayed, carrying the hash of
 * the access token, and made with the key the token is bound to (`cnf.jkt`). Optionally the server
 * hands out nonces (§9) and requires them.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, type JWTPayload, jwtVerify } from 'jose';
import type { Context } from 'koa';
import { PRIVATE_JWK_MEMBERS } from '../../jose/vocabulary.ts';
import { invalidDpopProof, TokenError } from './challenges.ts';
import { ExpiringCache } from './expiring-cache.ts';

export interface DpopSettings {
  /** Proof algorithms accepted (the `algs` of DPoP challenges). */
  algorithms: readonly string[];
  /** How far (seconds) a proof's `iat` may be from now, either way. */
  maxAge: number;
  /** Require a server-issued nonce (`DPoP-Nonce`) in every proof. */
  useNonce: boolean;
  /** Bound of the `jti` replay cache. */
  replayCacheSize: number;
}

/** The DPoP proof algorithms oidc-provider accepts by default (`dpop_signing_alg_values_supported`). */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'Ed25519', 'EdDSA'] as const;

const NONCE_STEP_MS = 60_000;

export class DpopVerifier {
  readonly #settings: DpopSettings;
  readonly #seen: ExpiringCache<true>;
  readonly #nonceKey = randomBytes(32);

  constructor(settings: DpopSettings) {
    const symmetric = settings.algorithms.filter((alg) => alg === 'none' || alg.startsWith('HS'));
    if (symmetric.length > 0)
      throw new Error(`DPoP proofs are signed with asymmetric keys (RFC 9449 §4.2); remove ${symmetric.join(', ')}`);
    this.#settings = settings;
    this.#seen = new ExpiringCache(settings.replayCacheSize);
  }

  /**
   * Checks the request's proof for `accessToken`, bound to `jkt`. `expectedUrl` is the request URL
   * as this server is reached (no query, no fragment).
   */
  async verify(ctx: Context, accessToken: string, jkt: string, expectedUrl: string): Promise<void> {
    // Repeated fields may arrive as one comma-joined value; a JWT has no commas (§4.3 check 1).
    const proofs = (ctx.req.headersDistinct.dpop ?? [])
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter(Boolean);
    if (proofs.length === 0) throw invalidDpopProof('DPoP proof missing: a DPoP-scheme request needs a DPoP header');
    if (proofs.length > 1) throw invalidDpopProof('more than one DPoP proof in the request');
    const [proof] = proofs;
    const { algorithms, maxAge } = this.#settings;

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw invalidDpopProof('DPoP proof is not a well-formed JWT');
    }
    if (header.typ !== 'dpop+jwt') throw invalidDpopProof('DPoP proof typ is not dpop+jwt');
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
      throw invalidDpopProof(`DPoP proof alg ${String(header.alg).slice(0, 20)} is not accepted (accepted: ${algorithms.join(' ')})`);
    }
    const jwk = header.jwk as JWK | undefined;
    if (!jwk || typeof jwk !== 'object') throw invalidDpopProof('DPoP proof has no jwk header');
    if (Object.keys(jwk).some((member) => PRIVATE_JWK_MEMBERS.has(member))) throw invalidDpopProof('DPoP proof jwk must be a public key');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, { algorithms: [...algorithms], typ: 'dpop+jwt' }));
    } catch {
      throw invalidDpopProof('DPoP proof signature does not verify with its jwk');
    }
    const { jti, htm, htu, iat, ath, nonce } = payload as JWTPayload & { htm?: unknown; htu?: unknown; ath?: unknown; nonce?: unknown };
    if (typeof jti !== 'string' || !jti) throw invalidDpopProof('DPoP proof has no jti');
    if (typeof iat !== 'number') throw invalidDpopProof('DPoP proof has no iat');
    if (htm !== ctx.method)
      throw invalidDpopProof(`DPoP proof htm ${String(htm).slice(0, 10)} does not match the request method ${ctx.method}`);
    if (normalizeHtu(htu) !== expectedUrl) {
      throw invalidDpopProof(`DPoP proof htu does not match the request URL ${expectedUrl}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (Math.abs(now - iat) > maxAge) throw invalidDpopProof(`DPoP proof iat is more than ${maxAge} seconds from now`);
    if (this.#settings.useNonce) this.#checkNonce(ctx, nonce);
    if (ath !== hash('sha256', accessToken, 'base64url')) {
      throw invalidDpopProof('DPoP proof ath does not match the access token');
    }
    if ((await calculateJwkThumbprint(jwk)) !== jkt) {
      throw invalidDpopProof('DPoP proof key does not match the key the access token is bound to (cnf.jkt)');
    }
    // RFC 9449 §11.1: remember each jti for as long as its proof could be accepted.
    const replayKey = `${jkt} ${jti}`;
    if (this.#seen.has(replayKey)) throw invalidDpopProof('DPoP proof jti was already used (replay)');
    this.#seen.set(replayKey, true, (Math.max(now, iat) + maxAge + 1) * 1000);
  }

  /** RFC 9449 §9: a stateless nonce (time step + HMAC), valid for the current and previous step. */
  #checkNonce(ctx: Context, nonce: unknown): void {
    const step = Math.floor(Date.now() / NONCE_STEP_MS);
    const current = this.#nonceFor(step);
    if (nonce !== current) ctx.set('DPoP-Nonce', current);
    if (typeof nonce !== 'string' || !nonce)
      throw new TokenError(
        'use_dpop_nonce',
        'this API requires a server-provided nonce in the DPoP proof: retry with the DPoP-Nonce value',
      );
    if (!this.#nonceMatches(nonce, step) && !this.#nonceMatches(nonce, step - 1)) {
      throw new TokenError('use_dpop_nonce', 'the DPoP proof nonce is stale or not from this API: retry with the DPoP-Nonce value');
    }
  }

  #nonceFor(step: number): string {
    const mac = createHmac('sha256', this.#nonceKey).update(String(step)).digest('base64url');
    return `${step.toString(36)}.${mac}`;
  }

  #nonceMatches(nonce: string, step: number): boolean {
    const expected = Buffer.from(this.#nonceFor(step));
    const given = Buffer.from(nonce);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** RFC 9449 §4.3 item 9: the URL without query and fragment, syntax-normalized (RFC 3986 §6.2.2-3). */
export function normalizeHtu(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = URL.parse(value);
  if (!url) return undefined;
  url.search = '';
  url.hash = '';
  return url.href;
}
